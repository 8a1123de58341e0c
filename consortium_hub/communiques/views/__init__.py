"""Communiqué pages."""

urlpatterns: list = []
