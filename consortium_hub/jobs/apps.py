from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "consortium_hub.jobs"
    label = "jobs"

    def ready(self) -> None:
        from consortium_hub.jobs import signals  # noqa: F401  (records every job run)
