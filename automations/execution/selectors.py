"""Reads of execution records: master data, work items, escalations, dry runs; every query is scoped to one
tenant."""
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet

from automations.choices import EscalationState
from automations.execution.models.work import Escalation, MasterRecord, WorkItem, WorkItemFile
from automations.fields import field_label, format_value
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import use_case_restrict
from portal.selectors import reads_all_work


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


def work_item_duplicates_of(*, item: str) -> QuerySet[WorkItem]:
    """work_item_duplicates for the item an outer query names (`item`: the path to it, e.g. "item" from a run),
    as a subquery: a pipeline run reads the first one's id in the query that locks the run."""
    match = Q(content_hash=OuterRef(f"{item}__content_hash")) | (
        Q(external_id=OuterRef(f"{item}__external_id")) & ~Q(external_id=""))
    return (WorkItem.objects.filter(tenant=OuterRef(f"{item}__tenant"), use_case=OuterRef(f"{item}__use_case"),
                                    is_dry_run=False)
            .filter(match).exclude(pk=OuterRef(item)).filter(created_at__lte=OuterRef(f"{item}__created_at"))
            .order_by("created_at"))


def work_item_restrict(qs, *, tenant, user):
    """The items of `qs` the user may read: those of the use cases within their reach (use_case_restrict,
    action "work")."""
    qs = qs.filter(tenant=tenant)
    if reads_all_work(user=user, tenant=tenant):
        return qs  # the whole tenant: no subquery
    reach = use_case_restrict(UseCase.objects.all(), tenant=tenant, user=user, action="work")
    return qs.filter(use_case__in=reach.values("pk"))


def work_item_list(*, tenant, user, use_case_key: str | None = None, status: str | None = None, since=None,
                   not_acknowledged_by: str | None = None, with_restricted: bool = False):
    """Items (no dry runs) the user may read (work_item_restrict). Items whose processing is restricted
    (Art. 18 GDPR) only `with_restricted`, which only a caller that has checked for the DSB asks for
    (intake.may_read_restricted)."""
    qs = work_item_restrict(WorkItem.objects.filter(is_dry_run=False), tenant=tenant, user=user
                            ).select_related("use_case")
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


def work_item_get(*, tenant, user, pk):
    """One item the user may read (work_item_restrict), restricted ones included: callers pass it through
    intake.ensure_may_read."""
    return work_item_restrict(WorkItem.objects.all(), tenant=tenant, user=user).select_related("use_case").get(pk=pk)


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
                .select_related("release", "use_case").order_by("-created_at")[:limit])



@dataclass
class ItemIdentity:
    """What tells one item from another in a list: its file names and its use case's title fields, values
    written for people, references to master data shown as the record's name."""
    files: list[str] = field(default_factory=list)
    parts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return " · ".join(value for _label, value in self.parts)


def _title_values(item) -> list[tuple[dict, object]]:
    """(spec, raw value) of the item's title fields: input fields from the payload, output fields from
    the values found (or decided)."""
    values = []
    for spec in item.use_case.input_fields:
        if spec.get("title") and item.payload.get(spec.get("name")) not in (None, ""):
            values.append((spec, item.payload[spec["name"]]))
    for spec in item.use_case.output_fields:
        entry = (item.fields or {}).get(spec.get("name"))
        value = entry.get("value") if isinstance(entry, dict) else None
        if spec.get("title") and value not in (None, ""):
            values.append((spec, value))
    return values


def _text_opening(item, length: int = 60) -> list[tuple[str, str]]:
    """(label, opening words) of the item's first text input, for an item with no file and no title value
    (a document whose processing failed before anything was found)."""
    for spec in item.use_case.input_fields:
        value = item.payload.get(spec.get("name"))
        if spec.get("type") in ("text", "long_text") and isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return [(field_label(spec), text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …")]
    return []


def work_item_identities(*, items) -> dict:
    """pk → ItemIdentity for a page of items (use case loaded with them): one query for the file names,
    one per referenced kind of master data."""
    items = [item for item in items if item is not None]
    if not items:
        return {}
    names: dict = {}
    tenant_id = items[0].tenant_id
    for pk, name in (WorkItemFile.objects.filter(tenant_id=tenant_id, item__in=[i.pk for i in items])
                     .order_by("pk").values_list("item_id", "name")):
        names.setdefault(pk, []).append(name)
    wanted: dict[tuple[str, str], set[str]] = {}
    titled = {item.pk: _title_values(item) for item in items}
    for title in titled.values():
        for spec, value in title:
            reference = spec.get("reference") or ""
            kind, _dot, attribute = reference.partition(".")
            if attribute in ("number", "vat_id", "iban", "email"):
                wanted.setdefault((kind, attribute), set()).add(_normalised(attribute, str(value)))
    records: dict[tuple[str, str, str], MasterRecord] = {}
    for (kind, attribute), values in wanted.items():
        lookup = f"{attribute}__in"
        for record in MasterRecord.objects.filter(tenant_id=tenant_id, kind=kind, is_active=True, **{lookup: values}):
            records[(kind, attribute, _normalised(attribute, getattr(record, attribute)))] = record
    identities = {}
    for item in items:
        currency = ((item.fields or {}).get("currency") or {}).get("value")
        parts = []
        for spec, value in titled[item.pk][:4]:
            kind, _dot, attribute = (spec.get("reference") or "").partition(".")
            known = records.get((kind, attribute, _normalised(attribute, str(value)))) if attribute else None
            shown = f"{known.name} ({value})" if known is not None else format_value(spec, value, currency=currency)
            parts.append((field_label(spec), shown))
        if not parts and item.pk not in names:  # nothing found or decided yet: the text that came in, begun
            parts = _text_opening(item)
        identities[item.pk] = ItemIdentity(files=names.get(item.pk, []), parts=parts)
    return identities


def with_identities(items) -> list:
    """The items, each with `identity` set (see work_item_identities)."""
    items = list(items)
    identities = work_item_identities(items=items)
    for item in items:
        item.identity = identities.get(item.pk, ItemIdentity())
    return items
