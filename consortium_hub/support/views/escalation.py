"""Support pages: escalation."""

urlpatterns: list = []
