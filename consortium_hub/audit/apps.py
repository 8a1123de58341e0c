from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "consortium_hub.audit"
    label = "audit"

    def ready(self) -> None:
        from consortium_hub.audit import receivers  # noqa: F401  (connects the one audit receiver)
