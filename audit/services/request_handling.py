"""Handling a data subject request as Art. 12 GDPR asks, by the data protection officer: the requester's
identity checked and recorded (Art. 12(6)), the one-month deadline extended once by up to two further months
with the reason (Art. 12(3), told to the person within the first month), a refusal with its reason (Art.
12(4)), and reminders before a deadline runs out (on the DSB's home page, and by e-mail once per request).
Every step is audited; texts describe the case, never name the person."""
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM, as_actor
from audit.choices import IdentityCheck, RequestStatus
from audit.models import REMINDER_DAYS, DataSubjectRequest
from audit.services.events import audit_event_record
from audit.services.requests import add_months
from portal.choices import Role
from portal.models import Membership
from portal.permissions import actor_holds_role_perm

MAX_EXTENSION_MONTHS = 2


def _require(actor, request: DataSubjectRequest) -> None:
    if not actor_holds_role_perm(actor, request.tenant, "audit.add_datasubjectrequest"):
        raise PermissionDenied(_("Only the data protection officer of this tenant handles data subject requests."))


def _locked_open(request: DataSubjectRequest) -> DataSubjectRequest:
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RequestStatus.OPEN:
        raise ValidationError(_("This request is no longer open."))
    return request


def data_subject_request_verify_identity(*, actor, request: DataSubjectRequest, check: str,
                                         note: str = "") -> DataSubjectRequest:
    """Record how the requester's identity was checked (who, when, by which means)."""
    _require(actor, request)
    if check not in IdentityCheck.values:
        raise ValidationError({"check": _("Choose how the identity was checked.")})
    note = (note or "").strip()
    if check == IdentityCheck.OTHER and not note:
        raise ValidationError({"note": _("Describe the check.")})
    with transaction.atomic():
        request = _locked_open(request)
        request.identity_checked_at, request.identity_checked_by = timezone.now(), as_actor(actor).user
        request.identity_check, request.identity_note = check, note[:300]
        request.save(update_fields=["identity_checked_at", "identity_checked_by", "identity_check", "identity_note"])
        audit_event_record(actor=actor, tenant=request.tenant, event_type="data_subject_request.identity_checked",
                           obj=request, details={"check": check})
    return request


def data_subject_request_extend(*, actor, request: DataSubjectRequest, months: int, reason: str,
                                now=None) -> DataSubjectRequest:
    """Extend the deadline by one or two further months (counted from receipt), once, with the reason; only
    within the first month, since the person must be told of it by then."""
    _require(actor, request)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise ValidationError({"months": _("The deadline can be extended by one or two further months.")})
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the extension (complexity, number of requests).")})
    with transaction.atomic():
        request = _locked_open(request)
        if request.extended_at is not None:
            raise ValidationError(_("The deadline was extended already; it can be extended once."))
        first_deadline = add_months(request.received_at, 1)
        if now > first_deadline:
            raise ValidationError(_("The first month has passed: an extension had to be told to the person "
                                    "within it."))
        request.due_at = add_months(request.received_at, 1 + months)
        request.extended_at, request.extension_reason = now, reason
        request.reminder_sent_at = None  # a new deadline gets its own reminder
        request.save(update_fields=["due_at", "extended_at", "extension_reason", "reminder_sent_at"])
        audit_event_record(actor=actor, tenant=request.tenant, event_type="data_subject_request.extended",
                           obj=request, details={"months": months, "due": request.due_at.date().isoformat()})
    return request


def data_subject_request_refuse(*, actor, request: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    """Refuse the request (manifestly unfounded or excessive, identity not established, ...), with the reason
    the person is told."""
    _require(actor, request)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the refusal.")})
    with transaction.atomic():
        request = _locked_open(request)
        request.status, request.completed_at, request.refusal_reason = RequestStatus.REFUSED, timezone.now(), reason
        request.save(update_fields=["status", "completed_at", "refusal_reason"])
        audit_event_record(actor=actor, tenant=request.tenant, event_type="data_subject_request.refused",
                           obj=request, details={"kind": request.kind})
    return request


def data_subject_request_reminders_send(*, now=None) -> int:
    """E-mail each tenant's data protection officers once about every open request due within REMINDER_DAYS
    (or overdue); returns how many requests were reminded of."""
    now = now or timezone.now()
    due = DataSubjectRequest.objects.filter(status=RequestStatus.OPEN, reminder_sent_at__isnull=True,
                                            due_at__lte=now + timedelta(days=REMINDER_DAYS)).select_related("tenant")
    sent = 0
    for request in due:
        with transaction.atomic():
            claimed = DataSubjectRequest.objects.filter(pk=request.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now)
            if not claimed:
                continue
            recipients = _dsb_addresses(request.tenant)
            audit_event_record(actor=SYSTEM, tenant=request.tenant, event_type="data_subject_request.reminded",
                               obj=request, details={"due": request.due_at.date().isoformat(),
                                                     "recipients": len(recipients)})
            if recipients:
                subject, body = _reminder_text(request)
                transaction.on_commit(partial(
                    send_mail, subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=recipients, fail_silently=True))
        sent += 1
    return sent


def _dsb_addresses(tenant) -> list[str]:
    members = Membership.objects.filter(tenant=tenant, is_active=True, user__is_active=True).select_related("user")
    return sorted({m.user.email for m in members if Role.DATA_PROTECTION_OFFICER in (m.roles or []) and m.user.email})


def _reminder_text(request: DataSubjectRequest) -> tuple[str, str]:
    due = timezone.localtime(request.due_at)
    subject = _("Data subject request #%(id)s is due on %(date)s") % {"id": request.pk, "date": f"{due:%d.%m.%Y}"}
    body = _("%(kind)s #%(id)s (%(tenant)s), received on %(received)s, must be answered by %(date)s.\n\n%(url)s") % {
        "kind": request.get_kind_display(), "id": request.pk, "tenant": request.tenant.name,
        "received": f"{timezone.localtime(request.received_at):%d.%m.%Y}", "date": f"{due:%d.%m.%Y}",
        "url": reverse("audit:request-detail", args=[request.pk])}
    return subject, body
