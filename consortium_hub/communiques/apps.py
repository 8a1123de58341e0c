from django.apps import AppConfig


class CommuniquesConfig(AppConfig):
    name = "consortium_hub.communiques"
    label = "communiques"
