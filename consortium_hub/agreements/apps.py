from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "consortium_hub.agreements"
    label = "agreements"
