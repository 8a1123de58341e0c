from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "consortium_hub.support"
    label = "support"
