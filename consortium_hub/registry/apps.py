from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "consortium_hub.registry"
    label = "registry"
    verbose_name = "ORCID Registry link"
