"""API for onboarding plans."""


def register(router) -> None:
    """Add this part's viewsets to the onboarding router."""
