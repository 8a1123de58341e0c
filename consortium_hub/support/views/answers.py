"""Support pages: answers."""

urlpatterns: list = []
