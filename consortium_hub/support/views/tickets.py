"""Support pages: tickets."""

urlpatterns: list = []
