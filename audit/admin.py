"""Read-only admin for audit records (append-only in the database anyway). Pseudonym keys and the
lookup digests are never shown."""
from django.apps import apps
from django.contrib import admin

from portal.admin_base import register_read_only

SECRETS = {"Pseudonym": ("subject_key", "identifier_encrypted", "lookup_digest")}

for model in apps.get_app_config("audit").get_models():
    if model not in admin.site._registry:
        register_read_only(admin.site, model, exclude=SECRETS.get(model.__name__, ()))
