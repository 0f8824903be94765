"""Read-only admin for every automations record: the registry, versions and approvals are governed,
execution records are written by the pipeline; every write goes through a service. Opening a record with
personal data here is recorded on the access chain like a look in the portal: one event per page."""
from collections import defaultdict

from django.apps import apps
from django.contrib import admin

from audit.actors import actor_from_request
from audit.services.events import access_event_record
from portal.admin_base import register_read_only

SECRETS = {"ProcessorSecret": ("ciphertext",), "ConnectorSecret": ("ciphertext",)}

# Records that hold personal data (payloads, extracted values, documents, prompts, master data, examples).
PERSONAL_DATA = {"WorkItem", "WorkItemFile", "MasterRecord", "Suggestion", "LlmCall", "LabelledExample",
                 "ItemDocument", "DocumentPage", "Escalation", "QualityTestCase", "EvaluationResult"}


def admin_access_record(request, objects, *, model) -> None:
    """One access event per tenant whose records the admin page showed (a superuser's list spans tenants)."""
    by_tenant = defaultdict(list)
    for obj in objects:
        if getattr(obj, "tenant_id", None):
            by_tenant[obj.tenant_id].append(obj)
    for shown in by_tenant.values():
        access_event_record(actor=actor_from_request(request), tenant=shown[0].tenant, purpose="administration",
                            event_type="personal_data.viewed", object_type=model._meta.label_lower,
                            details={"admin": model._meta.label_lower, "ids": [str(o.pk) for o in shown]})


class AccessLoggedAdmin:
    """Records what a list page or a record's page of the admin showed."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if changelist is not None and request.method == "GET":
            admin_access_record(request, list(changelist.result_list), model=self.model)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and getattr(response, "status_code", 0) == 200:
            obj = self.get_object(request, object_id)
            if obj is not None:
                admin_access_record(request, [obj], model=self.model)
        return response


for model in apps.get_app_config("automations").get_models():
    if not model.__name__.startswith("Historical") and model not in admin.site._registry:
        register_read_only(admin.site, model, exclude=SECRETS.get(model.__name__, ()),
                           mixins=(AccessLoggedAdmin,) if model.__name__ in PERSONAL_DATA else ())
