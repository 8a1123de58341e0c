from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "consortium_hub.registry"
    label = "registry"
    verbose_name = "ORCID Registry link"

    def ready(self) -> None:
        # tasks_adoption: the daily adoption job registers with the queue when the app loads.
        from consortium_hub.registry import signals, tasks_adoption  # noqa: F401

        signals.connect()
