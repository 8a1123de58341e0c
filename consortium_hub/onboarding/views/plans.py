"""Pages for onboarding plans (see docs/architecture.md)."""

urlpatterns: list = []
