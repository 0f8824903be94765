"""Read-only admin for review records; claims and decisions go through the review services."""
from django.apps import apps
from django.contrib import admin

from portal.admin_base import register_read_only

for model in apps.get_app_config("reviews").get_models():
    if model not in admin.site._registry:
        register_read_only(admin.site, model)
