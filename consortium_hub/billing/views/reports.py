"""Billing pages: reports."""

urlpatterns: list = []
