"""Legal holds (litigation, an authority's order, a tax audit): placed and lifted by the data protection
officer with a reason and a reference, audited. What a hold covers — one item, everything about a person,
a use case (optionally a period of it), or every item received in a period — is neither deleted at the end
of its retention period (audit.services.retention) nor erased on request (audit.services.erasure restricts
it instead, GDPR Art. 17(3)(e) and Art. 18). Reads: audit.selectors.legal_holds."""
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import as_actor
from audit.choices import LegalHoldScope
from audit.models import LegalHold
from audit.selectors.pseudonyms import lookup_digest
from audit.services.events import audit_event_record
from audit.services.pseudonyms import pseudonym_for
from automations.execution.models.work import WorkItem
from automations.registry.models.use_cases import UseCase
from portal.permissions import actor_holds_role_perm


def _require(actor, tenant, perm: str) -> None:
    if not actor_holds_role_perm(actor, tenant, perm):
        raise PermissionDenied(_("Only the data protection officer of this tenant places and lifts legal holds."))


def legal_hold_place(*, actor, tenant, scope: str, reason: str, reference: str, item_id: str = "",
                     identifier: str = "", identifier_kind: str = "", identifiers=(), use_case_key: str = "",
                     date_from=None, date_until=None) -> LegalHold:
    """Place a hold. A person is named by an identifier (e-mail, IBAN, customer or supplier number, name)
    of the given kind, and `identifiers`, the (kind, value) pairs the person is also known by (the caller finds
    them: audit.selectors.subjects.subject_identify); kept as a pseudonym and keyed digests only. Raises
    ValidationError for an incomplete scope."""
    _require(actor, tenant, "audit.add_legalhold")
    reason, reference = (reason or "").strip(), (reference or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Give the reason for the hold.")
    if not reference:
        errors["reference"] = _("Give a reference (case number, order, letter).")
    if scope not in LegalHoldScope.values:
        errors["scope"] = _("Choose what the hold covers.")
    values: dict[str, Any] = {}
    if scope == LegalHoldScope.ITEM:
        item = WorkItem.objects.for_tenant(tenant).filter(pk=item_id).first() if _is_uuid(item_id) else None
        if item is None:
            errors["item_id"] = _("No work item of this tenant has this id.")
        else:
            values["item_id"] = str(item.pk)
    elif scope == LegalHoldScope.PERSON:
        identifier = " ".join(str(identifier or "").split())
        if not identifier or not identifier_kind:
            errors["identifier"] = _("Name the person (e-mail address, IBAN, customer or supplier number, name).")
        else:
            kind = identifier_kind
            digests = {lookup_digest(tenant, kind, identifier)}
            digests |= {lookup_digest(tenant, other_kind, value) for other_kind, value in identifiers}
            values.update(subject_kind=kind, subject_digests=sorted(digests),
                          subject_pseudonym=pseudonym_for(tenant=tenant, kind=kind, identifier=identifier))
    elif scope in (LegalHoldScope.USE_CASE, LegalHoldScope.PERIOD):
        if use_case_key and not UseCase.objects.for_tenant(tenant).filter(key=use_case_key).exists():
            errors["use_case_key"] = _("This tenant has no use case with this key.")
        elif scope == LegalHoldScope.USE_CASE and not use_case_key:
            errors["use_case_key"] = _("Choose the use case.")
        if scope == LegalHoldScope.PERIOD and not (date_from and date_until):
            errors["date_from"] = _("Give the first and the last day of the period.")
        if date_from and date_until and date_from > date_until:
            errors["date_until"] = _("The period ends before it begins.")
        values.update(use_case_key=use_case_key or "", date_from=date_from, date_until=date_until)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        hold = LegalHold.objects.create(tenant=tenant, scope=scope, reason=reason, reference=reference[:100],
                                        placed_by=as_actor(actor).user, **values)
        audit_event_record(actor=actor, tenant=tenant, event_type="legal_hold.placed", obj=hold,
                           details=_details(hold))
    return hold


def legal_hold_lift(*, actor, hold: LegalHold, reason: str) -> LegalHold:
    """Lift an active hold, with the reason; what it kept follows its retention again from now on."""
    _require(actor, hold.tenant, "audit.change_legalhold")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"lift_reason": _("Give the reason for lifting the hold.")})
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_at is not None:
            raise ValidationError(_("This hold was lifted already."))
        hold.lifted_by, hold.lifted_at, hold.lift_reason = as_actor(actor).user, timezone.now(), reason
        hold.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
        audit_event_record(actor=actor, tenant=hold.tenant, event_type="legal_hold.lifted", obj=hold,
                           details=_details(hold))
    return hold


def _details(hold: LegalHold) -> dict:
    details: dict[str, Any] = {"scope": hold.scope, "reference": hold.reference}
    if hold.item_id:
        details["item"] = hold.item_id
    if hold.subject_pseudonym:
        details["subject"] = hold.subject_pseudonym
    if hold.use_case_key:
        details["use_case"] = hold.use_case_key
    if hold.date_from or hold.date_until:
        details["period"] = [str(hold.date_from or ""), str(hold.date_until or "")]
    return details


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
