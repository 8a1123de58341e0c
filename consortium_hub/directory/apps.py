from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "consortium_hub.directory"
    label = "directory"
