from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "consortium_hub.billing"
    label = "billing"
