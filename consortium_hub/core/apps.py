from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "consortium_hub.core"
    label = "core"
    verbose_name = "Core"
