from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = _("Demo data")

    def ready(self) -> None:
        # App loading: the demo's audit event type is registered once the models exist.
        from demo import events  # noqa: F401
