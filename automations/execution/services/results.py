"""Results for business applications: final items, and the acknowledgement that each consumer took
each item once."""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.choices import FINAL_ITEM_STATUSES, ItemStatus
from automations.execution.models.work import ResultAcknowledgement, WorkItem
from portal import dispatch
from portal.permissions import require_perm


def work_item_finalise(*, actor, item: WorkItem, approved: bool, final_values: dict,
                       value_authors: dict | None = None) -> WorkItem:
    """Inside the deciding transaction: the clerk's final values replace the suggestions (kept in the
    item's suggestions and the decision's diff), with `decided_by` beside each value: the person who chose
    it (`value_authors`, name → user name, e.g. the first reviewer of a value a second reviewer confirmed),
    else the acting person; a confirming second reviewer is kept as `confirmed_by`."""
    actor = as_actor(actor)
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    if item.status in FINAL_ITEM_STATUSES:
        raise ValidationError(_("This item is already final."))
    fields = dict(item.fields)
    who = actor.user.username if actor.user else "system"
    for spec in item.use_case.output_fields:
        name = spec["name"]
        author = (value_authors or {}).get(name, who)
        extra = {"confirmed_by": who} if author != who else {}
        if name in final_values:
            fields[name] = {**fields.get(name, {}), "value": final_values[name], "decided_by": author, **extra}
        elif name in fields:
            fields[name] = {**fields[name], "decided_by": author, **extra}
    now = timezone.now()
    item.fields, item.updated_at, item.finalised_at = fields, now, now
    item.status = ItemStatus.APPLIED if approved else ItemStatus.REJECTED
    item.save(update_fields=["fields", "status", "updated_at", "finalised_at"])
    audit_event_record(actor=actor, tenant=item.tenant, event_type="work_item.finalised", obj=item,
                       details={"status": item.status, "corrected": sorted(final_values)})
    if not item.is_dry_run:  # delivery connectors queue the result in this transaction
        dispatch.emit("work_item.finalised", item=item)
    return item


def work_item_acknowledge(*, actor, item: WorkItem, consumer: str) -> bool:
    """Returns False when this consumer had already taken the item."""
    require_perm(actor, item.tenant, "automations.view_workitem", item)
    consumer = consumer.strip()[:100]
    if not consumer:
        raise ValidationError(_("Name the consumer (target system)."))
    if item.status not in FINAL_ITEM_STATUSES:
        raise ValidationError(_("Only final items are acknowledged."))
    try:
        with transaction.atomic():
            ResultAcknowledgement.objects.create(tenant=item.tenant, item=item, consumer=consumer)
            audit_event_record(actor=actor, tenant=item.tenant, event_type="work_item.acknowledged", obj=item,
                               details={"consumer": consumer})
    except IntegrityError:
        return False
    return True
