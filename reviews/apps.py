from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        # App loading: event types and handlers are registered once the models exist.
        from reviews import events, handlers  # noqa: F401  (registers audit event types)

        handlers.connect()
