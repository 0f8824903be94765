"""Escalations go to the use case's escalation contact, by e-mail and on their home page, with the item,
the reason and the manual fallback from the documentation."""
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.services.events import audit_event_record
from automations.choices import EscalationState
from automations.execution.models.work import Escalation, WorkItem


def escalation_create(*, item: WorkItem, reason: str, actor, contact=None) -> Escalation:
    """To the use case's escalation contact, or to `contact` (IT, for a delivery that cannot be made)."""
    use_case = item.use_case
    with transaction.atomic():
        escalation = Escalation.objects.create(tenant=item.tenant, item=item, reason=reason[:4000],
                                               contact=contact or use_case.escalation_contact,
                                               manual_fallback=use_case.manual_fallback)
        audit_event_record(actor=actor, tenant=item.tenant, event_type="escalation.created", obj=escalation,
                           details={"item": str(item.pk), "use_case": use_case.key,
                                    "contact_id": escalation.contact_id})
        contact = escalation.contact
        if contact is not None and contact.email:
            transaction.on_commit(lambda: send_mail(
                subject=_("Leitplanke: escalation in %(use_case)s") % {"use_case": use_case.title},
                message=_("An item needs you.\n\nReason: %(reason)s\n\nManual fallback:\n%(fallback)s\n\n"
                          "Item: %(item)s") % {"reason": reason, "fallback": use_case.manual_fallback or "-",
                                               "item": item.pk},
                from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[contact.email], fail_silently=True))
    return escalation


def _transition(*, actor, escalation: Escalation, to: str, resolution: str = "") -> Escalation:
    actor = as_actor(actor)
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
        allowed = actor.user is not None and (
            actor.user.pk == escalation.contact_id
            or actor.user.has_perm("automations.change_escalation"))
        if not allowed:
            raise PermissionDenied(_("Only the escalation contact or the core team handles this escalation."))
        if escalation.state == EscalationState.CLOSED:
            raise ValidationError(_("This escalation is closed."))
        now = timezone.now()
        if to == EscalationState.ACKNOWLEDGED:
            escalation.acknowledged_at = now
        else:
            if not resolution.strip():
                raise ValidationError(_("Say how the escalation was resolved."))
            escalation.closed_at, escalation.resolution = now, resolution
        escalation.state = to
        escalation.save()
        audit_event_record(actor=actor, tenant=escalation.tenant, event_type=f"escalation.{to}", obj=escalation,
                           details={"item": str(escalation.item_id)})
    return escalation


def escalation_acknowledge(*, actor, escalation: Escalation) -> Escalation:
    return _transition(actor=actor, escalation=escalation, to=EscalationState.ACKNOWLEDGED)


def escalation_close(*, actor, escalation: Escalation, resolution: str) -> Escalation:
    return _transition(actor=actor, escalation=escalation, to=EscalationState.CLOSED, resolution=resolution)
