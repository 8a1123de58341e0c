"""Support pages: sla."""

urlpatterns: list = []
