from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = _("Automations")

    def ready(self) -> None:
        # App loading: each part registers its audit event types and announcements (audit.registry and
        # portal.dispatch refuse duplicates), execution connects its handlers, and the task modules are
        # imported so that services can send tasks by name (portal.jobs).
        from automations.connectors import events as connector_events  # noqa: F401
        from automations.connectors import handlers as connector_handlers
        from automations.connectors import tasks as connector_tasks  # noqa: F401
        from automations.evaluation import events as evaluation_events  # noqa: F401
        from automations.evaluation import tasks as evaluation_tasks  # noqa: F401
        from automations.execution import events as execution_events  # noqa: F401
        from automations.execution import handlers
        from automations.execution import tasks as execution_tasks  # noqa: F401
        from automations.quality import events as quality_events  # noqa: F401
        from automations.quality import handlers as quality_handlers
        from automations.quality import tasks as quality_tasks  # noqa: F401
        from automations.registry import events as registry_events  # noqa: F401
        from automations.registry import tasks as registry_tasks  # noqa: F401
        from automations.training import events as training_events  # noqa: F401
        from automations.training import tasks as training_tasks  # noqa: F401

        handlers.connect()
        connector_handlers.connect()
        quality_handlers.connect()
