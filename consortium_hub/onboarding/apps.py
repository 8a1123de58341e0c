from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "consortium_hub.onboarding"
    label = "onboarding"

    def ready(self) -> None:
        from consortium_hub.onboarding import lifecycle, signals  # noqa: F401  (lifecycle: the daily status job)

        signals.connect(self)
