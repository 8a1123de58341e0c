"""Billing API: invoices."""


def register(router) -> None:
    """Add this part's viewsets to the billing router."""
