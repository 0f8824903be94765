"""Read-only admin for review records; claims and decisions go through the review services. A decision holds the
values a clerk corrected (before and after) and their comment, a task the reasons it was opened with (which name
values): opening them here is recorded on the access chain like the automations records with personal data."""
from django.apps import apps
from django.contrib import admin

from automations.admin import AccessLoggedAdmin
from portal.admin_base import register_read_only

PERSONAL_DATA = {"ReviewDecision", "ReviewTask"}

for model in apps.get_app_config("reviews").get_models():
    if model not in admin.site._registry:
        register_read_only(admin.site, model, mixins=(AccessLoggedAdmin,) if model.__name__ in PERSONAL_DATA else ())
