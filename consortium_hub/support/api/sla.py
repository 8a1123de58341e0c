"""Support API: sla."""


def register(router) -> None:
    """Add this part's viewsets to the support router."""
