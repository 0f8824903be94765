from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = _("Automations")

    def ready(self) -> None:
        # Registers the audit event types of each part of the app (audit.registry refuses duplicates).
        from automations.execution import events as execution_events  # noqa: F401
        from automations.registry import events as registry_events  # noqa: F401
        from automations.training import events as training_events  # noqa: F401
