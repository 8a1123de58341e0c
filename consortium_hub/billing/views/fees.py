"""Billing pages: fees."""

urlpatterns: list = []
