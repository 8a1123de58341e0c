"""API for onboarding applications."""


def register(router) -> None:
    """Add this part's viewsets to the onboarding router."""
