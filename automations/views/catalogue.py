"""The Baukasten (approved processors and connectors) and the tenant's policy: read here, changed
through change requests (automations.views.changes)."""
from django.shortcuts import render
from django.utils.translation import gettext as _

from automations import selectors
from automations.choices import CatalogueKind, ChangeKind, ChangeState
from automations.models import TenantPolicy
from automations.views.mixins import RegistryView


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
                               "works_agreement_reference", "min_group_size", "change_request_expiry_days")]
        controls = [(TenantPolicy._meta.get_field(name).verbose_name, _display(getattr(policy, name)))
                    for name in TenantPolicy.WEAKENING_FIELDS]
        return render(request, "automations/tenant_policy.html", {
            "policy": policy, "fields": fields, "controls": controls,
            "open_changes": selectors.change_request_list(tenant=request.tenant, state=ChangeState.OPEN).filter(
                kind=ChangeKind.TENANT_POLICY),
        })
