"""Reads of execution records: master data, work items, escalations, dry runs; every query is scoped to one
tenant."""
from django.db.models import Q

from automations.choices import EscalationState
from automations.execution.models.work import Escalation, MasterRecord, WorkItem


def master_record_list(*, tenant, kind: str | None = None):
    qs = MasterRecord.objects.for_tenant(tenant)
    return qs.filter(kind=kind) if kind else qs


def _normalised(attribute: str, value: str) -> str:
    value = value.strip()
    if attribute in ("iban", "vat_id"):
        return value.replace(" ", "").upper()
    return value


def master_record_find(*, tenant, kind: str, attribute: str, value: str):
    """The active record of `kind` whose `attribute` (number, vat_id, iban, email) equals the value."""
    if attribute not in ("number", "vat_id", "iban", "email", "name"):
        raise ValueError(f"unknown master data attribute {attribute}")
    lookup = f"{attribute}__iexact" if attribute in ("email", "name") else attribute
    return (master_record_list(tenant=tenant, kind=kind).filter(is_active=True)
            .filter(**{lookup: _normalised(attribute, value)}).first())


def work_item_duplicates(*, item) -> list:
    match = Q(content_hash=item.content_hash)
    if item.external_id:
        match |= Q(external_id=item.external_id)
    return list(WorkItem.objects.for_tenant(item.tenant).filter(use_case=item.use_case, is_dry_run=False)
                .filter(match).exclude(pk=item.pk).filter(created_at__lte=item.created_at).order_by("created_at")[:1])


def work_item_list(*, tenant, use_case_key: str | None = None, status: str | None = None, since=None,
                   not_acknowledged_by: str | None = None, with_restricted: bool = False):
    """Items (no dry runs). Items whose processing is restricted (Art. 18 GDPR) only `with_restricted`,
    which only a caller that has checked for the DSB asks for (intake.may_read_restricted)."""
    qs = WorkItem.objects.for_tenant(tenant).filter(is_dry_run=False).select_related("use_case")
    if not with_restricted:
        qs = qs.filter(restricted=False)
    if use_case_key:
        qs = qs.filter(use_case__key=use_case_key)
    if status:
        qs = qs.filter(status=status)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    if not_acknowledged_by:
        qs = qs.exclude(acknowledgements__consumer=not_acknowledged_by)
    return qs


def work_item_get(*, tenant, pk):
    """One item, restricted ones included: callers pass it through intake.ensure_may_read."""
    return WorkItem.objects.for_tenant(tenant).select_related("use_case").get(pk=pk)


def escalation_list_for(*, tenant, user=None, open_only: bool = True):
    # A restricted item's escalation names the item and its reason: the DSB sees those items alone.
    qs = (Escalation.objects.for_tenant(tenant).filter(item__restricted=False)
          .select_related("item", "item__use_case", "contact"))
    if user is not None:
        qs = qs.filter(contact=user)
    if open_only:
        qs = qs.exclude(state=EscalationState.CLOSED)
    return qs.order_by("-created_at")


def dry_run_item_list(*, use_case, limit: int = 30) -> list:
    return list(WorkItem.objects.for_tenant(use_case.tenant)
                .filter(use_case=use_case, is_dry_run=True, restricted=False)
                .select_related("release").order_by("-created_at")[:limit])

