from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "consortium_hub.accounts"
    label = "accounts"

    def ready(self) -> None:
        from consortium_hub.accounts import signals  # noqa: F401
