"""The delivery outbox. A Delivery row is written in the transaction that makes an item final (applied
automatically, or applied or rejected by a clerk), sent after commit and by beat, retried with exponential
backoff and jitter, and after the last attempt kept as a dead letter and escalated to IT with the manual
fallback. Every attempt leaves a receipt. A delivery to a connector that is not approved for the use case's
personal data categories is refused when it would be sent, escalated and audited.

Every connector type goes through this outbox: webhooks (services/webhooks.py), file drops
(services/file_drops.py; one that batches per interval writes every due result of the connector in one
file, `file_drop_flush`) and e-mail (services/emails.py).

Test deliveries — the result of a dry run, or every result of a connector in test mode — go to the
connector's sandbox target (a webhook's `sandbox_url`), or, without one and for every other type, are only
recorded with the body that would have been sent; never to the production target. They pass no circuit
breaker, are never batched and escalate nothing.

Settings of a delivery connector (CatalogueEntry.settings, non-secret):
    timeout       seconds a target has to answer (10; DESIGN: any 2xx within 10 s is success)
    max_attempts  attempts before a delivery is dead (8)
    backoff       first wait in seconds, doubled per attempt, with jitter (5)
    backoff_max   the longest wait in seconds (3600)
    test_mode     every delivery is a test delivery (false)
    sandbox_url   where a webhook connector's test deliveries go (none: they are only recorded)
"""
import dataclasses
import json
import logging
import random
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from automations.choices import CatalogueKind, ConnectorDirection, ConnectorType, DeliveryStatus, ItemStatus
from automations.connectors.models import Delivery, DeliveryAttempt
from automations.connectors.selectors import delivery_connectors
from automations.connectors.services.answers import DeliveryAnswer
from automations.connectors.services.circuits import (
    connector_circuit_allow,
    connector_circuit_record,
    connector_circuit_reopen_at,
)
from automations.connectors.services.credentials import connector_secret
from automations.connectors.services.emails import email_preview, email_refusal, email_send, email_wanted
from automations.connectors.services.file_drops import file_drop_render, file_drop_write
from automations.connectors.services.webhooks import webhook_headers, webhook_post
from automations.execution.models.work import WorkItem
from automations.execution.services.escalations import escalation_create
from automations.registry.connector_settings import file_drop_settings
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.processors import CircuitState
from portal.jobs import task_send_on_commit
from portal.permissions import require_perm

logger = logging.getLogger(__name__)

EVENT_TYPES: dict[str, str] = {ItemStatus.APPLIED: "work_item.applied", ItemStatus.REJECTED: "work_item.rejected"}
DELIVERY_TASK = "automations.deliver"


def _setting(connector, name: str, default, cast=float):
    try:
        return cast((connector.settings or {}).get(name, default))
    except (TypeError, ValueError):
        return default


def _grace() -> timedelta:
    return timedelta(seconds=settings.DELIVERY_DISPATCH_SECONDS)


def backoff_seconds(connector, attempt: int, rng=random) -> float:
    """Exponential backoff with jitter: half of the doubled wait fixed, the other half random, so that
    deliveries that failed together do not all come back at the same moment."""
    base = _setting(connector, "backoff", 5.0)
    ceiling = _setting(connector, "backoff_max", 3600.0)
    wait = min(ceiling, base * (2 ** max(0, attempt - 1)))
    return wait / 2 + rng.uniform(0, wait / 2)


def _send(delivery: Delivery, countdown: float = 0) -> None:
    def unsent() -> None:  # the broker is away: beat sends it once the dispatch window has passed
        Delivery.objects.filter(pk=delivery.pk).update(dispatched_until=None)

    task_send_on_commit(DELIVERY_TASK, delivery.pk, countdown=int(countdown + 0.999) or None, on_unsent=unsent)


def in_test_mode(connector) -> bool:
    """The connector's setting `test_mode` (true, or "true", "1", "yes", "on")."""
    return str((connector.settings or {}).get("test_mode", "")).strip().lower() in ("true", "1", "yes", "on")


def sandbox_url(connector) -> str:
    return str((connector.settings or {}).get("sandbox_url") or "").strip()


def deliveries_create(*, item: WorkItem) -> list[Delivery]:
    """Inside the transaction that made the item final: one outbox row per delivery connector the use
    case names, each with its own webhook id, sent after commit. A dry run's deliveries, and those of a
    connector in test mode, are test deliveries."""
    event_type = EVENT_TYPES.get(item.status)
    if event_type is None:
        return []
    now = timezone.now()
    created = []
    for connector in delivery_connectors(use_case=item.use_case):
        if connector.connector_type == ConnectorType.EMAIL and not email_wanted(connector=connector, item=item):
            continue
        test = item.is_dry_run or in_test_mode(connector)
        interval = 0 if test else batch_interval(connector)  # a test delivery is recorded at once, on its own
        if interval:  # a batched file drop: the sweep after the interval's end writes the file
            delivery = Delivery.objects.create(
                tenant=item.tenant, connector=connector, item=item, event_type=event_type,
                webhook_id=f"msg_{uuid.uuid4().hex}", next_attempt_at=batch_due(now, interval))
        else:
            delivery = Delivery.objects.create(
                tenant=item.tenant, connector=connector, item=item, event_type=event_type, test=test,
                webhook_id=f"msg_{uuid.uuid4().hex}", next_attempt_at=now, dispatched_until=now + _grace())
            _send(delivery)
        created.append(delivery)
    return created


def batch_interval(connector) -> int:
    """Seconds between the files of a file drop that batches per interval; 0 for every other connector."""
    if connector.connector_type != ConnectorType.FILE_DROP:
        return 0
    try:
        config = file_drop_settings(connector.settings)
    except ValidationError:
        return 0  # sent one by one, and each attempt's receipt names the reason
    return config.interval if config.batch == "interval" else 0


def batch_due(now, interval: int):
    """The end of the interval `now` falls in (intervals counted from the Unix epoch): results of one
    interval share it, and so one file."""
    seconds = int(now.timestamp())
    return datetime.fromtimestamp((seconds // interval + 1) * interval, tz=UTC)


def _refusal(delivery: Delivery) -> str:
    """Why this delivery must not go out now, or "" when it may."""
    connector, use_case = delivery.connector, delivery.item.use_case
    if connector.kind != CatalogueKind.CONNECTOR or connector.direction != ConnectorDirection.DELIVERY:
        return _("%(c)s is not a delivery connector.") % {"c": connector.name}
    if not connector.is_active:
        return _("The connector %(c)s is not active.") % {"c": connector.name}
    if not use_case.catalogue_entries.filter(pk=connector.pk).exists():
        return _("The use case %(u)s no longer names the connector %(c)s.") % {"u": use_case.key, "c": connector.name}
    missing = sorted(use_case.personal_data_categories() - set(connector.approved_categories or []))
    if missing:
        return (_("The connector %(c)s is not approved for the data categories %(cats)s of the use case %(u)s.")
                % {"c": connector.name, "cats": ", ".join(missing), "u": use_case.key})
    if delivery.test and sandbox_url(connector) and sandbox_url(connector) == (connector.endpoint or "").strip():
        return _("The sandbox target of %(c)s is its production target; a test delivery never goes there.") % {
            "c": connector.name}
    if connector.connector_type == ConnectorType.EMAIL:
        return email_refusal(connector=connector, item=delivery.item)
    return ""


def _escalate_to_it(delivery: Delivery, reason: str) -> None:
    use_case = delivery.item.use_case
    escalation_create(item=delivery.item, reason=reason, actor=SYSTEM,
                      contact=use_case.it_contact or use_case.escalation_contact)


def _refuse(delivery: Delivery, reason: str) -> None:
    delivery.status, delivery.last_error = DeliveryStatus.DEAD, reason[:4000]
    delivery.lease_until = delivery.dispatched_until = None
    delivery.save(update_fields=["status", "last_error", "lease_until", "dispatched_until"])
    audit_event_record(actor=SYSTEM, tenant=delivery.tenant, event_type="delivery.refused", obj=delivery.item,
                       details={"delivery": delivery.webhook_id, "connector": delivery.connector.key,
                                "reason": reason, "test": delivery.test})
    if not delivery.test:  # a test delivery is the tester's to look at, not IT's
        _escalate_to_it(delivery, _("Delivery refused: %(reason)s") % {"reason": reason})


def delivery_body(delivery: Delivery, data: dict) -> bytes:
    """The body per DESIGN: type, tenant, timestamp (when the item became final) and the item as the API
    shows it."""
    return json.dumps({"type": delivery.event_type, "tenant": delivery.tenant.slug,
                       "timestamp": delivery.created_at.isoformat(), "data": data},
                      cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def _take(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",))
                    .select_related("connector", "item", "item__use_case", "tenant").filter(pk=delivery_id).first())
        if delivery is None or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            return None
        if delivery.lease_until and delivery.lease_until > now:
            return None  # another worker is sending it
        if delivery.next_attempt_at > now:
            # Arrived before its time (a worker's clock ahead of the database's): the sweep sends it when due
            # instead of waiting out the dispatch window.
            delivery.dispatched_until = None
            delivery.save(update_fields=["dispatched_until"])
            return None
        refusal = _refusal(delivery)
        if refusal:
            _refuse(delivery, refusal)
            return None
        # A test delivery never goes to the production target: the production circuit does not concern it.
        allowed, retry_at = (True, None) if delivery.test else connector_circuit_allow(entry=delivery.connector,
                                                                                       now=now)
        if not allowed:  # the connector is down: the delivery waits, spending no attempt
            delivery.next_attempt_at, delivery.dispatched_until = retry_at or now, None
            delivery.save(update_fields=["next_attempt_at", "dispatched_until"])
            return None
        timeout = _setting(delivery.connector, "timeout", 10.0)
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(seconds=timeout + 5)
        delivery.save(update_fields=["attempts", "lease_until"])
    return delivery


def _item(delivery: Delivery) -> WorkItem:
    return WorkItem.objects.select_related("use_case", "release", "tenant").get(pk=delivery.item_id)


def _attempt(delivery: Delivery, render) -> DeliveryAnswer:
    connector = delivery.connector
    if connector.connector_type == ConnectorType.FILE_DROP:
        return file_drop_write(connector=connector, rows=[(delivery, render(_item(delivery)))])
    if connector.connector_type == ConnectorType.EMAIL:
        return email_send(connector=connector, delivery=delivery, item=_item(delivery))
    if connector.connector_type != ConnectorType.WEBHOOK:
        return DeliveryAnswer(False, None, 0, "", _("Connector type %(t)s does not deliver.")
                              % {"t": connector.connector_type})
    secret = connector_secret(entry=connector)
    if not secret:
        return DeliveryAnswer(False, None, 0, "", _("The connector has no signing secret."))
    body = delivery_body(delivery, render(_item(delivery)))
    headers = webhook_headers(secret=secret, webhook_id=delivery.webhook_id, body=body)
    return webhook_post(url=connector.endpoint, headers=headers, body=body,
                        timeout=_setting(connector, "timeout", 10.0))


def _attempt_test(delivery: Delivery, render) -> tuple[DeliveryAnswer, str]:
    """A test delivery: signed and sent to the sandbox target of a webhook connector, or only recorded (a file
    drop's file and an e-mail as they would have been written or sent). Returns the answer (its target the
    sandbox, or empty when recorded) and the body."""
    connector = delivery.connector
    if connector.connector_type == ConnectorType.FILE_DROP:  # the file it would write, never into its folder
        try:
            name, content = file_drop_render(connector=connector, rows=[(delivery, render(_item(delivery)))])
        except ValidationError as exc:
            return DeliveryAnswer(False, None, 0, "", " ".join(exc.messages)), ""
        return (DeliveryAnswer(True, None, 0, _("Recorded, not written (test delivery): %(name)s") % {"name": name},
                               ""), content.decode("utf-8-sig"))
    if connector.connector_type == ConnectorType.EMAIL:  # the message it would send, to nobody
        preview = email_preview(connector=connector, delivery=delivery, item=_item(delivery))
        return DeliveryAnswer(True, None, 0, _("Recorded, not sent (test delivery)."), ""), preview
    body = delivery_body(delivery, render(_item(delivery)))
    target = sandbox_url(connector) if connector.connector_type == ConnectorType.WEBHOOK else ""
    if not target:
        return DeliveryAnswer(True, None, 0, _("Recorded, not sent (test delivery without a sandbox target)."),
                              ""), body.decode()
    secret = connector_secret(entry=connector)
    if not secret:
        return DeliveryAnswer(False, None, 0, "", _("The connector has no signing secret."), target=target), \
            body.decode()
    headers = webhook_headers(secret=secret, webhook_id=delivery.webhook_id, body=body)
    answer = webhook_post(url=target, headers=headers, body=body, timeout=_setting(connector, "timeout", 10.0))
    return dataclasses.replace(answer, target=target), body.decode()


def delivery_send(*, delivery_id: int, render) -> str:
    """One attempt of one delivery (the deliver task): take it under a lease, send it (signed, written or
    mailed), keep the receipt, then mark it delivered, schedule the next attempt, or make it a dead letter.
    A delivery of a file drop that batches per interval writes every result of that connector that is due
    into one file. `render` turns the item into its API representation. Returns what happened."""
    row = Delivery.objects.filter(pk=delivery_id).select_related("connector").first()
    if row is not None and not row.test and batch_interval(row.connector):
        return file_drop_flush(connector_id=row.connector_id, render=render)
    delivery = _take(delivery_id)
    if delivery is None:
        return "skipped"
    number = delivery.attempts
    started = timezone.now()
    if delivery.test:
        answer, recorded = _attempt_test(delivery, render)
    else:
        answer, recorded = _attempt(delivery, render), ""
    now = timezone.now()
    with transaction.atomic():
        return _conclude(delivery_id, number, started, answer, now, recorded=recorded)


def _conclude(delivery_id: int, number: int, started, answer: DeliveryAnswer, now, circuit=None,
              recorded: str = "") -> str:
    """Inside the transaction after an attempt: the receipt, then delivered, the next attempt, waiting for
    the circuit, or a dead letter. `circuit`: the connector's circuit after the attempt when the caller
    recorded it (a batch is one attempt at its target); otherwise it is recorded here."""
    delivery = Delivery.objects.select_for_update(of=("self",)).select_related(
        "connector", "item", "item__use_case", "tenant").get(pk=delivery_id)
    # Where the attempt went: a file's name, the sandbox, the production target; empty when only recorded.
    target = answer.target or ("" if delivery.test else delivery.connector.endpoint)
    DeliveryAttempt.objects.create(tenant=delivery.tenant, delivery=delivery, number=number, started_at=started,
                                   ok=answer.ok, status_code=answer.status_code, latency_ms=answer.latency_ms,
                                   response_excerpt=answer.excerpt, error=answer.error[:4000], target=target[:500],
                                   recorded_body=recorded)
    if delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
        return "already final"  # another worker finished it after this one's lease ran out
    delivery.lease_until = None
    # A refused message says nothing about the connector; a test delivery never went to it.
    if circuit is None and not answer.permanent and not delivery.test:
        circuit = connector_circuit_record(entry=delivery.connector, ok=answer.ok, error=answer.error, now=now)
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, now, ""
        delivery.dispatched_until = None
        delivery.save(update_fields=["status", "delivered_at", "last_error", "lease_until", "dispatched_until"])
        details = {"delivery": delivery.webhook_id, "connector": delivery.connector.key,
                   "attempts": delivery.attempts, "status_code": answer.status_code, "latency_ms": answer.latency_ms}
        if answer.target:
            details["target"] = answer.target
        if delivery.test:  # to the sandbox, or only recorded
            details |= {"test": True, "target": "sandbox" if answer.target else "recorded"}
        audit_event_record(actor=SYSTEM, tenant=delivery.tenant, event_type="delivery.delivered", obj=delivery.item,
                           details=details)
        return "delivered"
    delivery.last_error = answer.error[:4000]
    if not answer.permanent and circuit is not None and circuit.state != CircuitState.CLOSED:
        # The connector is down: the delivery waits for the circuit's trial, its budget untouched (the
        # trial's success sends every waiting delivery at once).
        delivery.status, delivery.dispatched_until = DeliveryStatus.FAILED, None
        delivery.next_attempt_at = connector_circuit_reopen_at(circuit)
        delivery.attempts_before_redelivery += 1
        delivery.save(update_fields=["status", "last_error", "lease_until", "next_attempt_at", "dispatched_until",
                                     "attempts_before_redelivery"])
        return "waiting"
    budget = max(1, _setting(delivery.connector, "max_attempts", 8, int))
    if answer.permanent or delivery.attempts - delivery.attempts_before_redelivery >= budget:
        delivery.status, delivery.dispatched_until = DeliveryStatus.DEAD, None
        delivery.save(update_fields=["status", "last_error", "lease_until", "dispatched_until"])
        audit_event_record(actor=SYSTEM, tenant=delivery.tenant, event_type="delivery.dead", obj=delivery.item,
                           details={"delivery": delivery.webhook_id, "connector": delivery.connector.key,
                                    "attempts": delivery.attempts, "error": answer.error[:300]})
        if not delivery.test:  # a test delivery is the tester's to look at, not IT's
            _escalate_to_it(delivery, _("Delivery to %(c)s failed after %(n)s attempts (%(e)s). Deliver the "
                                        "result by hand, or redeliver it from the item once the target is back.")
                            % {"c": delivery.connector.name, "n": delivery.attempts, "e": answer.error[:300]})
        return "dead"
    wait = backoff_seconds(delivery.connector, delivery.attempts)
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.dispatched_until = delivery.next_attempt_at + _grace()
    delivery.save(update_fields=["status", "last_error", "lease_until", "next_attempt_at", "dispatched_until"])
    _send(delivery, countdown=wait)
    return "failed"


BATCH_LIMIT = 1000


def file_drop_flush(*, connector_id: int, render, now=None, limit: int = BATCH_LIMIT) -> str:
    """A file drop that batches per interval: every result of the connector that is due goes into one file,
    written as one attempt (the circuit counts it once); each delivery keeps its own receipt, retries and
    dead letter. Deliveries another worker holds are left to it."""
    now = now or timezone.now()
    with transaction.atomic():
        connector = CatalogueEntry.objects.get(pk=connector_id)
        due = list(Delivery.objects.select_for_update(of=("self",), skip_locked=True)
                   .select_related("connector", "item", "item__use_case", "tenant")
                   .filter(connector_id=connector_id, status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
                           next_attempt_at__lte=now, test=False)
                   .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
                   .order_by("created_at", "pk")[:limit])
        batch = []
        for delivery in due:
            refusal = _refusal(delivery)
            if refusal:
                _refuse(delivery, refusal)
            else:
                batch.append(delivery)
        if not batch:
            return "skipped"
        allowed, retry_at = connector_circuit_allow(entry=connector, now=now)
        if not allowed:  # the folder is away: the results wait, spending no attempt
            Delivery.objects.filter(pk__in=[d.pk for d in batch]).update(next_attempt_at=retry_at,
                                                                        dispatched_until=None)
            return "waiting"
        lease = now + timedelta(seconds=_setting(connector, "timeout", 10.0) + 60)
        for delivery in batch:
            delivery.attempts += 1
            delivery.lease_until = lease
            delivery.save(update_fields=["attempts", "lease_until"])
    started = timezone.now()
    answer = file_drop_write(connector=connector, rows=[(d, render(_item(d))) for d in batch])
    now = timezone.now()
    with transaction.atomic():
        circuit = connector_circuit_record(entry=connector, ok=answer.ok, error=answer.error, now=now)
        outcomes = [_conclude(d.pk, d.attempts, started, answer, now, circuit=circuit) for d in batch]
    return f"{len(batch)} in one file: " + ", ".join(sorted(set(outcomes)))


def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """A person sends a dead (or waiting) delivery again, with the same webhook id and a fresh retry budget."""
    require_perm(actor, delivery.tenant, "automations.change_delivery")
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
            raise ValidationError(_("Only a dead or failed delivery is sent again."))
        before = delivery.status
        now = timezone.now()
        delivery.status, delivery.attempts_before_redelivery = DeliveryStatus.PENDING, delivery.attempts
        delivery.next_attempt_at, delivery.lease_until, delivery.dispatched_until = now, None, now + _grace()
        delivery.save(update_fields=["status", "attempts_before_redelivery", "next_attempt_at", "lease_until",
                                     "dispatched_until"])
        audit_event_record(actor=actor, tenant=delivery.tenant, event_type="delivery.redelivered", obj=delivery.item,
                           details={"delivery": delivery.webhook_id, "connector": delivery.connector.key,
                                    "from": before})
        _send(delivery)
    return delivery


def deliveries_sweep(*, now=None, limit: int = 500) -> int:
    """Beat: deliveries that are due and have no task on its way (lost with a broker, a worker killed
    mid-send) are sent again. Returns how many."""
    now = now or timezone.now()
    due = list(Delivery.objects.filter(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
                                       next_attempt_at__lte=now)
               .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
               .filter(Q(dispatched_until__isnull=True) | Q(dispatched_until__lt=now))
               .order_by("next_attempt_at").values_list("pk", "connector_id", "test")[:limit])
    if not due:
        return 0
    connectors = {pk: connector_id for pk, connector_id, _test in due}
    batched = {entry.pk for entry in CatalogueEntry.objects.filter(pk__in=set(connectors.values()),
                                                                  connector_type=ConnectorType.FILE_DROP)
               if batch_interval(entry)}
    tasks, flushed = [], set()
    for pk, connector_id, test in due:
        # One task writes the connector's whole batch; a test delivery is never batched and goes on its own.
        if connector_id in batched and not test:
            if connector_id in flushed:
                continue
            flushed.add(connector_id)
        tasks.append(pk)
    with transaction.atomic():
        Delivery.objects.filter(pk__in=list(connectors)).update(dispatched_until=now + _grace())
        for pk in tasks:
            _send(Delivery(pk=pk))
    return len(due)
