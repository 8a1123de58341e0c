"""Support pages: problems."""

urlpatterns: list = []
