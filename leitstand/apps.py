from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeitstandConfig(AppConfig):
    name = "leitstand"
    verbose_name = _("Leitstand")
