"""Billing pages: invoices."""

urlpatterns: list = []
