from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "consortium_hub.support"
    label = "support"

    def ready(self) -> None:
        from consortium_hub.support import sla_signals

        sla_signals.connect()  # recalculation on calendar/policy changes; registers the SLA jobs
