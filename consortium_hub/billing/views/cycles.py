"""Billing pages: cycles."""

urlpatterns: list = []
