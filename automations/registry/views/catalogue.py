"""The Baukasten (approved processors and connectors) and the tenant's policy: read here, changed
through change requests (automations.registry.views.changes)."""
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from automations.choices import CatalogueKind, ChangeKind, ChangeState
from automations.registry import selectors
from automations.registry.forms import TenantPolicyDetailsForm
from automations.registry.models.use_cases import TenantPolicy
from automations.registry.services import use_cases
from automations.registry.views.mixins import RegistryView
from portal.views import call_service


class CatalogueListView(RegistryView):
    permission_required = "automations.view_catalogueentry"

    def get(self, request):
        entries = list(selectors.catalogue_list(tenant=request.tenant).prefetch_related("use_cases"))
        open_changes = selectors.change_request_list(tenant=request.tenant, state=ChangeState.OPEN).filter(
            kind=ChangeKind.CATALOGUE)
        return render(request, "automations/catalogue.html", {
            "processors": [e for e in entries if e.kind == CatalogueKind.PROCESSOR],
            "connectors": [e for e in entries if e.kind == CatalogueKind.CONNECTOR],
            "open_changes": open_changes,
        })


def _display(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


class TenantPolicyView(RegistryView):
    """Controller details, measures, the data category vocabulary and the control settings."""

    permission_required = "automations.view_tenantpolicy"

    def get(self, request):
        policy = selectors.tenant_policy_get(tenant=request.tenant)
        fields = [(TenantPolicy._meta.get_field(name).verbose_name, getattr(policy, name))
                  for name in ("controller_name", "controller_contact", "dsb_contact", "technical_measures",
                               "change_request_expiry_days")]
        controls = [(TenantPolicy._meta.get_field(name).verbose_name, _display(getattr(policy, name)))
                    for name in TenantPolicy.WEAKENING_FIELDS]
        return render(request, "automations/tenant_policy.html", {
            "policy": policy, "fields": fields, "controls": controls,
            "open_changes": selectors.change_request_list(tenant=request.tenant, state=ChangeState.OPEN).filter(
                kind=ChangeKind.TENANT_POLICY),
        })


class TenantPolicyUpdateView(RegistryView):
    """Controller details, measures and the category vocabulary (not the control settings)."""

    permission_required = "automations.change_tenantpolicy"

    def _render(self, request, form, status=200):
        return render(request, "automations/tenant_policy_form.html", {"form": form}, status=status)

    def get(self, request):
        return self._render(request, TenantPolicyDetailsForm(policy=selectors.tenant_policy_get(tenant=request.tenant)))

    def post(self, request):
        form = TenantPolicyDetailsForm(request.POST, policy=selectors.tenant_policy_get(tenant=request.tenant))
        if not form.is_valid():
            return self._render(request, form, status=400)
        values = form.changed_values()
        if not values:
            form.add_error(None, _("Nothing was changed."))
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: use_cases.tenant_policy_update_details(actor=request.user, tenant=request.tenant,
                                                                    values=values, reason=form.cleaned_data["reason"]),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=_("The tenant details were saved."), to=reverse("automations:tenant-policy"))
