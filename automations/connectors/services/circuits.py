"""Circuit breaker per delivery connector: the one breaker of the catalogue (automations.registry.services.
circuits), with what differs for deliveries. After a run of failed deliveries the connector opens: its
deliveries wait (no attempt is spent, nothing is dropped), IT is told by e-mail and sees it on its home page;
after the cool-down one trial delivery goes out, and a success closes the circuit and sends the waiting
deliveries at once. Every change of state is audited (`connector_circuit.*`).

Settings of the connector (CatalogueEntry.settings): circuit_failures (5 failed deliveries in a row open
it), circuit_cooldown (60 seconds before the trial delivery), timeout (10; bounds the trial's window)."""
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from automations.choices import DeliveryStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.services import circuits
from automations.registry.services.circuits import entry_setting
from portal.jobs import task_send_on_commit


def _probe_window(entry: CatalogueEntry) -> timedelta:
    return timedelta(seconds=entry_setting(entry, "timeout", 10.0) + 10)


def _notice(entry: CatalogueEntry, failures: int, error: str) -> tuple[str, str]:
    subject = _("Leitplanke: connector %(name)s is unavailable") % {"name": entry.name}
    message = _("The circuit breaker of connector %(name)s (%(key)s, %(target)s) opened after %(n)s failed "
                "deliveries in a row.\nLast error: %(error)s\n\nDeliveries to it wait; none is lost. After the "
                "cool-down one trial delivery is made; a success closes the circuit and the waiting deliveries "
                "are sent. The connector page shows its state and backlog.") % {
        "name": entry.name, "key": entry.key, "target": entry.endpoint, "n": failures, "error": error}
    return subject, message


def _send_waiting(entry: CatalogueEntry, now) -> None:
    """The waiting deliveries go now, not at their own next attempt."""
    Delivery.objects.filter(connector=entry, status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)
                            ).update(next_attempt_at=now, dispatched_until=None)
    task_send_on_commit("automations.sweep_deliveries")


CONNECTOR_BREAKER = circuits.BreakerKind(name="connector_circuit", model=ConnectorCircuit, label="connector",
                                         probe_window=_probe_window, notice=_notice, on_closed=_send_waiting)


def connector_circuit_allow(*, entry: CatalogueEntry, now=None) -> tuple[bool, datetime | None]:
    """May a delivery go out now? Returns (allowed, when to try again if not)."""
    return circuits.circuit_allow(kind=CONNECTOR_BREAKER, entry=entry, now=now)


def connector_circuit_record(*, entry: CatalogueEntry, ok: bool, error: str = "", now=None) -> ConnectorCircuit:
    """After a delivery attempt: success closes the circuit (and sends what waited); a failure counts and
    opens it at the threshold, or again when the trial delivery fails."""
    return circuits.circuit_record(kind=CONNECTOR_BREAKER, entry=entry, ok=ok, error=error, now=now)


def connector_circuit_reopen_at(circuit: ConnectorCircuit):
    return circuits.circuit_reopen_at(circuit)
