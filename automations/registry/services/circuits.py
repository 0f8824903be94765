"""One circuit breaker for every catalogue entry that calls out: a processor (language model provider) and a
delivery connector. Each kind keeps its own table (one row per entry, in the database so every worker sees
it) and its own audit event types (`<kind>.opened`, `<kind>.half_opened`, `<kind>.closed`); the states and
their changes are decided here once:

- closed: calls go through; failures in a row are counted, and at `circuit_failures` (5) the circuit opens,
  and the IT operators are told by e-mail after commit;
- open: nothing goes out until `circuit_cooldown` (60 s) has passed; then the circuit is half open and
  exactly one trial goes out (the others wait for its answer, at most the kind's probe window);
- a success closes the circuit; a failed trial opens it again (silently: IT knows already).

Every change of state is audited, as the system. Settings come from the entry (CatalogueEntry.settings)."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.processors import CircuitState
from portal.choices import Role
from portal.selectors import users_with_role

# How long a caller waits at most before asking again while a half-open circuit's trial is out.
TRIAL_POLL = timedelta(seconds=2)


def entry_setting(entry: CatalogueEntry, name: str, default, cast=float):
    """A non-secret setting of a catalogue entry, or the default when it is missing or malformed."""
    try:
        return cast((entry.settings or {}).get(name, default))
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class BreakerKind:
    """What differs between the breakers of one kind of entry."""

    name: str  # the audit event types' prefix, e.g. "processor_circuit"
    # A TenantOwned model with entry, state, consecutive_failures, opened_at, probe_until, ...: the kinds'
    # models share these columns, not a base class.
    model: type[Any]
    label: str  # the audit details' key naming the entry: "processor", "connector"
    probe_window: Callable[[CatalogueEntry], timedelta]  # how long one trial may take
    # (entry, failures, last error) -> (subject, message) of the e-mail to IT when the circuit opens
    notice: Callable[[CatalogueEntry, int, str], tuple[str, str]]
    # Called inside the closing transaction (e.g. send what waited for the circuit).
    on_closed: Callable[[CatalogueEntry, datetime], None] | None = None

    def details(self, entry: CatalogueEntry, **extra) -> dict:
        return {self.label: entry.key, **extra}

    @property
    def keeps_last_success(self) -> bool:
        return any(f.name == "last_success_at" for f in self.model._meta.get_fields())


def _locked(kind: BreakerKind, entry: CatalogueEntry):
    kind.model.objects.get_or_create(entry=entry, defaults={"tenant_id": entry.tenant_id})
    return kind.model.objects.select_for_update().get(entry=entry)


def cooldown(entry: CatalogueEntry) -> timedelta:
    return timedelta(seconds=entry_setting(entry, "circuit_cooldown", 60.0))


def circuit_allow(*, kind: BreakerKind, entry: CatalogueEntry, now=None) -> tuple[bool, datetime | None]:
    """May a call go out now? Returns (allowed, when to ask again if not). Closed: yes. Open: not before the
    cool-down has passed; then half open, and exactly one trial goes out."""
    now = now or timezone.now()
    with transaction.atomic():
        circuit = _locked(kind, entry)
        if circuit.state == CircuitState.CLOSED:
            return True, None
        if circuit.state == CircuitState.OPEN:
            reopen = (circuit.opened_at or now) + cooldown(entry)
            if now < reopen:
                return False, reopen
            circuit.state = CircuitState.HALF_OPEN
            circuit.probe_until, circuit.updated_at = now + kind.probe_window(entry), now
            circuit.save()
            audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type=f"{kind.name}.half_opened", obj=entry,
                               details=kind.details(entry))
            return True, None
        if circuit.probe_until and now < circuit.probe_until:
            return False, min(circuit.probe_until, now + TRIAL_POLL)  # the trial is still out
        # The trial's slot ran out without an answer (its caller died): this call is the trial now.
        circuit.probe_until, circuit.updated_at = now + kind.probe_window(entry), now
        circuit.save(update_fields=["probe_until", "updated_at"])
        return True, None


def _tell_it(kind: BreakerKind, entry: CatalogueEntry, failures: int, error: str) -> None:
    recipients = sorted({u.email for u in users_with_role(tenant=entry.tenant, role=Role.IT_OPERATOR) if u.email})
    if not recipients:
        return
    subject, message = kind.notice(entry, failures, error or "-")
    send_mail(subject=subject, message=message, from_email=settings.DEFAULT_FROM_EMAIL,
              recipient_list=recipients, fail_silently=True)


def circuit_record(*, kind: BreakerKind, entry: CatalogueEntry, ok: bool, error: str = "", now=None):
    """After a call: success closes the circuit; a failure counts and opens it at the threshold, or again
    when the trial fails. Opening tells IT by e-mail, after commit. Returns the circuit row."""
    now = now or timezone.now()
    with transaction.atomic():
        circuit = _locked(kind, entry)
        before = circuit.state
        circuit.updated_at, circuit.probe_until = now, None
        if ok:
            circuit.state, circuit.consecutive_failures, circuit.opened_at = CircuitState.CLOSED, 0, None
            if kind.keeps_last_success:
                circuit.last_success_at = now
            circuit.save()
            if before != CircuitState.CLOSED:
                audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type=f"{kind.name}.closed", obj=entry,
                                   details=kind.details(entry, **{"from": before}))
                if kind.on_closed is not None:
                    kind.on_closed(entry, now)
            return circuit
        circuit.consecutive_failures += 1
        circuit.last_error = error[:1000]
        threshold = max(1, entry_setting(entry, "circuit_failures", 5, int))
        opens = before == CircuitState.HALF_OPEN or (
            before == CircuitState.CLOSED and circuit.consecutive_failures >= threshold)
        if opens:
            circuit.state, circuit.opened_at = CircuitState.OPEN, now
        circuit.save()
        if opens:
            audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type=f"{kind.name}.opened", obj=entry,
                               details=kind.details(entry, failures=circuit.consecutive_failures, **{"from": before}))
            if before == CircuitState.CLOSED:  # a failed trial re-opens silently: IT knows already
                failures, text = circuit.consecutive_failures, circuit.last_error
                transaction.on_commit(lambda: _tell_it(kind, entry, failures, text))
        return circuit


def circuit_reopen_at(circuit) -> datetime:
    """When an open circuit lets its trial through."""
    return (circuit.opened_at or timezone.now()) + cooldown(circuit.entry)
