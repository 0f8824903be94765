"""Admin classes every app uses: scoped to the active tenant for non-superusers, and read-only for
governed records (writes to those go through services, which audit them)."""
from typing import Any

from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


class TenantScopedAdmin(admin.ModelAdmin):
    # The lookup to a work item's `restricted` flag (Art. 18 GDPR): such an item and every record about
    # it is the data protection officer's alone, who reads it in the portal, where each look is recorded.
    # The admin shows it to nobody, a superuser included.
    restricted_item_lookup = ""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.restricted_item_lookup:
            qs = qs.exclude(**{self.restricted_item_lookup: True})
        if request.user.is_superuser:
            return qs
        tenant = getattr(request, "tenant", None)
        return qs.filter(tenant=tenant) if tenant is not None else qs.none()


class GovernedReadOnlyAdmin(TenantScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserReadOnlyAdmin(admin.ModelAdmin):
    """Records without a tenant (chain heads, system-wide runs): visible to platform operators only."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def register_read_only(site, model, *, exclude: tuple = (), list_display: tuple | None = None,
                       mixins: tuple = ()) -> None:
    """Register a model read-only: tenant-scoped for tenant members, superuser-only without a tenant.
    Secret columns (keys, ciphertexts, digests) are named in `exclude` and never shown; `mixins` go before
    the base class (an app's access log of the admin pages, for one)."""
    # A stored file has no public URL (files are served only through permission-checked views): the
    # admin's default widget would ask the storage for one and fail. Shown as a stored name instead.
    stored = [f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField) and f.name not in exclude]
    exclude = (*exclude, *stored)
    names = [f.name for f in model._meta.concrete_fields if f.name not in exclude]
    has_tenant = "tenant" in names
    base = GovernedReadOnlyAdmin if has_tenant else SuperuserReadOnlyAdmin
    display = list_display or tuple(n for n in names if n not in ("tenant",))[:6]
    options: dict[str, Any] = {"exclude": exclude, "list_display": display,
               "list_select_related": ("tenant",) if has_tenant else False}
    for name in stored:
        options[f"{name}_stored"] = _stored_file_display(name)
    if stored:
        options["readonly_fields"] = tuple(f"{name}_stored" for name in stored)
    if has_tenant:
        options["restricted_item_lookup"] = _restricted_item_lookup(model)
    site.register(model, type(f"{model.__name__}Admin", (*mixins, base), options))


def _restricted_item_lookup(model) -> str:
    """How a record reaches the `restricted` flag of the work item it belongs to, if it belongs to one."""
    if model._meta.label == "automations.WorkItem":
        return "restricted"
    for field in model._meta.concrete_fields:
        related = getattr(field, "related_model", None)
        if related is None or not field.many_to_one:
            continue
        if related._meta.label == "automations.WorkItem":
            return f"{field.name}__restricted"
        if related._meta.label in ("automations.Run", "reviews.ReviewTask"):
            return f"{field.name}__item__restricted"
    return ""


def _stored_file_display(name: str):
    @admin.display(description=_("stored file"))
    def display(self, obj):
        value = getattr(obj, name)
        if not value:
            return "-"
        if obj._meta.label == "automations.WorkItemFile":
            try:  # the portal's view checks the reader's permission and records the look
                url = reverse("work:item-file", args=[obj.item_id, obj.pk])
            except NoReverseMatch:
                return value.name
            return format_html('<a href="{}">{}</a>', url, obj.name)
        return value.name

    return display
