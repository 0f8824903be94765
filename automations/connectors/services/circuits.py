"""Circuit breaker per delivery connector, kept in the database so every worker sees it. After a run of
failed deliveries the connector opens: its deliveries wait (no attempt is spent, nothing is dropped), IT is
told by e-mail and sees it on its home page; after the cool-down one trial delivery goes out, and a success
closes the circuit and sends the waiting deliveries. Every change of state is audited.

Settings of the connector (CatalogueEntry.settings): circuit_failures (5 failed deliveries in a row open
it), circuit_cooldown (60 seconds before the trial delivery), timeout (10; bounds the trial's window)."""
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from automations.choices import DeliveryStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.processors import CircuitState
from portal.choices import Role
from portal.jobs import task_send_on_commit
from portal.selectors import users_with_role


def _setting(entry: CatalogueEntry, name: str, default, cast=float):
    try:
        return cast((entry.settings or {}).get(name, default))
    except (TypeError, ValueError):
        return default


def _circuit(entry: CatalogueEntry) -> ConnectorCircuit:
    ConnectorCircuit.objects.get_or_create(entry=entry, defaults={"tenant_id": entry.tenant_id})
    return ConnectorCircuit.objects.select_for_update().get(entry=entry)


def _cooldown(entry: CatalogueEntry) -> timedelta:
    return timedelta(seconds=_setting(entry, "circuit_cooldown", 60.0))


def _probe_window(entry: CatalogueEntry) -> timedelta:
    return timedelta(seconds=_setting(entry, "timeout", 10.0) + 10)


def connector_circuit_allow(*, entry: CatalogueEntry, now=None) -> tuple[bool, object]:
    """May a delivery go out now? Returns (allowed, when to try again if not). Closed: yes. Open: not
    before the cool-down has passed; then half open, and exactly one trial delivery goes out."""
    now = now or timezone.now()
    with transaction.atomic():
        circuit = _circuit(entry)
        if circuit.state == CircuitState.CLOSED:
            return True, None
        if circuit.state == CircuitState.OPEN:
            reopen = (circuit.opened_at or now) + _cooldown(entry)
            if now < reopen:
                return False, reopen
            circuit.state = CircuitState.HALF_OPEN
            circuit.probe_until, circuit.updated_at = now + _probe_window(entry), now
            circuit.save()
            audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="connector_circuit.half_opened",
                               obj=entry, details={"connector": entry.key})
            return True, None
        if circuit.probe_until and now < circuit.probe_until:
            return False, min(circuit.probe_until, now + timedelta(seconds=2))  # the trial is still out
        circuit.probe_until, circuit.updated_at = now + _probe_window(entry), now
        circuit.save(update_fields=["probe_until", "updated_at"])
        return True, None


def _tell_it(entry: CatalogueEntry, failures: int, error: str) -> None:
    recipients = sorted({u.email for u in users_with_role(tenant=entry.tenant, role=Role.IT_OPERATOR) if u.email})
    if not recipients:
        return
    send_mail(
        subject=_("Leitplanke: connector %(name)s is unavailable") % {"name": entry.name},
        message=_("The circuit breaker of connector %(name)s (%(key)s, %(target)s) opened after %(n)s failed "
                  "deliveries in a row.\nLast error: %(error)s\n\nDeliveries to it wait; none is lost. After the "
                  "cool-down one trial delivery is made; a success closes the circuit and the waiting deliveries "
                  "are sent. The connector page shows its state and backlog.") % {
            "name": entry.name, "key": entry.key, "target": entry.endpoint, "n": failures, "error": error or "-"},
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients, fail_silently=True)


def connector_circuit_record(*, entry: CatalogueEntry, ok: bool, error: str = "", now=None) -> ConnectorCircuit:
    """After a delivery attempt: success closes the circuit; a failure counts and opens it at the
    threshold, or again when the trial delivery fails. Opening tells IT by e-mail, after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        circuit = _circuit(entry)
        before = circuit.state
        circuit.updated_at, circuit.probe_until = now, None
        if ok:
            circuit.state, circuit.consecutive_failures, circuit.opened_at = CircuitState.CLOSED, 0, None
            circuit.last_success_at = now
            circuit.save()
            if before != CircuitState.CLOSED:
                audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="connector_circuit.closed",
                                   obj=entry, details={"connector": entry.key, "from": before})
                # The waiting deliveries go now, not at their own next attempt.
                Delivery.objects.filter(connector=entry, status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)
                                        ).update(next_attempt_at=now, dispatched_until=None)
                task_send_on_commit("automations.sweep_deliveries")
            return circuit
        circuit.consecutive_failures += 1
        circuit.last_error = error[:1000]
        threshold = max(1, _setting(entry, "circuit_failures", 5, int))
        opens = before == CircuitState.HALF_OPEN or (
            before == CircuitState.CLOSED and circuit.consecutive_failures >= threshold)
        if opens:
            circuit.state, circuit.opened_at = CircuitState.OPEN, now
        circuit.save()
        if opens:
            audit_event_record(actor=SYSTEM, tenant=entry.tenant, event_type="connector_circuit.opened", obj=entry,
                               details={"connector": entry.key, "failures": circuit.consecutive_failures,
                                        "from": before})
            if before == CircuitState.CLOSED:  # a failed trial re-opens silently: IT knows already
                failures, text = circuit.consecutive_failures, circuit.last_error
                transaction.on_commit(lambda: _tell_it(entry, failures, text))
        return circuit


def connector_circuit_reopen_at(circuit: ConnectorCircuit):
    return (circuit.opened_at or timezone.now()) + _cooldown(circuit.entry)
