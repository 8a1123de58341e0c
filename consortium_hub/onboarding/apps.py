from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "consortium_hub.onboarding"
    label = "onboarding"

    def ready(self) -> None:
        from consortium_hub.onboarding import lifecycle, receivers  # noqa: F401  (daily status job; staff plans)
