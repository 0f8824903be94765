from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit and data protection")

    def ready(self) -> None:
        from audit import events  # noqa: F401  (registers audit event types)
