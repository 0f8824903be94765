"""Read-only admin for every automations record: the registry, versions and approvals are governed,
execution records are written by the pipeline; every write goes through a service."""
from django.apps import apps
from django.contrib import admin

from portal.admin_base import register_read_only

SECRETS = {"ProcessorSecret": ("ciphertext",)}

for model in apps.get_app_config("automations").get_models():
    if not model.__name__.startswith("Historical") and model not in admin.site._registry:
        register_read_only(admin.site, model, exclude=SECRETS.get(model.__name__, ()))
