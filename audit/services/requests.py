"""Data subject requests as records: received, due one month later (GDPR Art. 12(3)), completed. A request
keeps a keyed hash of the identifier only (so that a later request of the same person can be recognised),
and the person's pseudonym (so that an access request can be answered later, until an erasure destroys
the pseudonym's key)."""
import calendar
import hashlib
import hmac
from datetime import datetime

from django.utils import timezone

from audit.choices import RequestStatus
from audit.models import DataSubjectRequest
from audit.selectors.pseudonyms import normalise
from audit.services.pseudonyms import pseudonym_for


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or that month's last day (31 January + 1 → 28/29 February)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_one_month(moment: datetime) -> datetime:
    return add_months(moment, 1)


def identifier_hash(*, tenant, kind: str, identifier: str) -> str:
    """Keyed with the tenant's pseudonym key, in a domain of its own (never equal to a lookup digest)."""
    message = f"request:{kind}:{normalise(kind, identifier)}".encode()
    return hmac.new(bytes.fromhex(tenant.pseudonym_key), message, hashlib.sha256).hexdigest()


def data_subject_request_open(*, tenant, kind: str, identifier_kind: str, identifier: str, actor,
                              received_at=None, channel: str = "", reason: str = "") -> DataSubjectRequest:
    """Called inside the services that handle requests (audit.services.erasure, audit.services.access), in their
    transaction."""
    received_at = received_at or timezone.now()
    user = getattr(actor, "user", actor)
    return DataSubjectRequest.objects.create(
        tenant=tenant, kind=kind, identifier_kind=identifier_kind,
        identifier_hash=identifier_hash(tenant=tenant, kind=identifier_kind, identifier=identifier),
        subject_pseudonym=pseudonym_for(tenant=tenant, kind=identifier_kind, identifier=identifier),
        received_at=received_at, due_at=add_one_month(received_at), actor=user if getattr(user, "pk", None) else None,
        channel=channel or "", reason=(reason or "").strip(),
    )


def data_subject_request_complete(*, request: DataSubjectRequest, summary: dict) -> DataSubjectRequest:
    request.status, request.completed_at, request.summary = RequestStatus.COMPLETED, timezone.now(), summary
    request.save(update_fields=["status", "completed_at", "summary"])
    return request
