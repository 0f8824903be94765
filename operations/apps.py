from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from prometheus_client import REGISTRY

        from operations.metrics import BusinessCollector

        if not any(isinstance(c, BusinessCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(BusinessCollector())
