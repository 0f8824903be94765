"""Constructed history for the Leitstand's tests: rows written with the times they would have had, so each
figure of a day is known in advance."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from automations.choices import DeliveryStatus, ItemStatus, RunStatus, StepStatus
from automations.connectors.models import Delivery, DeliveryAttempt
from automations.models import CatalogueEntry, Escalation, Run, StepRun, Suggestion, WorkItem
from reviews.choices import DecisionAction, QueueKind, TaskState
from reviews.models import ReviewDecision, ReviewTask
from reviews.services import review_queue_ensure

BERLIN = ZoneInfo("Europe/Berlin")


def at(day, hour, minute=0, second=0):
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=BERLIN)


def item(use_case, received, *, status=ItemStatus.RECEIVED, finalised=None, dry_run=False, fields=None):
    return WorkItem.objects.create(
        tenant=use_case.tenant, use_case=use_case, content_hash=uuid.uuid4().hex, status=status, created_at=received,
        updated_at=finalised or received, finalised_at=finalised, is_dry_run=dry_run, fields=fields or {})


def run(work_item, started, finished, *, status=RunStatus.SUCCEEDED, confidences=(), failed_steps=()):
    row = Run.objects.create(tenant=work_item.tenant, item=work_item, status=status, created_at=started,
                             started_at=started, finished_at=finished)
    for index, confidence in enumerate(confidences):
        Suggestion.objects.create(tenant=work_item.tenant, run=row, item=work_item, field=f"f{index}", value="x",
                                  confidence=confidence, engine="rules", created_at=started)
    for step in failed_steps:
        StepRun.objects.create(tenant=work_item.tenant, run=row, step=step, status=StepStatus.FAILED,
                               started_at=started, error="kaputt")
    return row


def task(work_item, created, *, due, done=None, kind=QueueKind.REVIEW, state=None):
    queue = review_queue_ensure(use_case=work_item.use_case, kind=kind)
    return ReviewTask.objects.create(tenant=work_item.tenant, item=work_item, queue=queue,
                                     use_case=work_item.use_case, reasons=[], due_at=due, created_at=created,
                                     done_at=done, state=state or (TaskState.DONE if done else TaskState.OPEN))


def decide(review_task, actor, when, *, action=DecisionAction.APPROVE, final=None, diff=None):
    return ReviewDecision.objects.create(tenant=review_task.tenant, task=review_task, item=review_task.item,
                                         actor=actor, action=action, final_fields=final or {}, diff=diff or {},
                                         created_at=when)


def escalate(work_item, when):
    return Escalation.objects.create(tenant=work_item.tenant, item=work_item, reason="Klärung nötig",
                                     created_at=when)


def connector(tenant, key="erp-hook"):
    entry, _created = CatalogueEntry.objects.get_or_create(
        tenant=tenant, key=key, defaults={"kind": "connector", "name": "ERP", "connector_type": "webhook",
                                          "direction": "delivery", "endpoint": "http://127.0.0.1:9/"})
    return entry


def delivery(work_item, entry, created, *, status=DeliveryStatus.DELIVERED, delivered=None, failed_attempts=()):
    row = Delivery.objects.create(tenant=work_item.tenant, connector=entry, item=work_item,
                                  event_type="work_item.applied", webhook_id=f"msg_{uuid.uuid4().hex}", status=status,
                                  attempts=len(failed_attempts) + (1 if delivered else 0), created_at=created,
                                  delivered_at=delivered)
    for number, when in enumerate(failed_attempts, start=1):
        DeliveryAttempt.objects.create(tenant=work_item.tenant, delivery=row, number=number, started_at=when, ok=False,
                                       status_code=503)
    return row


def one_day(use_case, day, clerk, *, other_use_case=None):
    """The day the tests know by heart (figures in EXPECTED): four items, one of each outcome and one open."""
    auto = item(use_case, at(day, 9), status=ItemStatus.APPLIED, finalised=at(day, 9, 0, 2))
    run(auto, at(day, 9), at(day, 9, 0, 2), confidences=(0.97, 0.99))
    corrected = item(use_case, at(day, 9, 1), status=ItemStatus.APPLIED, finalised=at(day, 10, 1))
    run(corrected, at(day, 9, 1), at(day, 9, 1, 4), confidences=(0.62, 0.95))
    review = task(corrected, at(day, 9, 1, 4), due=at(day, 20), done=at(day, 10, 1))
    decide(review, clerk, at(day, 10, 1), action=DecisionAction.CORRECT,
           final={"category": "b", "iban": "DE02120300000000202051"},
           diff={"category": {"suggested": "a", "final": "b", "confidence": 0.62}})
    rejected = item(use_case, at(day, 9, 2), status=ItemStatus.REJECTED, finalised=at(day, 11, 2))
    decide(task(rejected, at(day, 9, 2), due=at(day, 20), done=at(day, 11, 2)), clerk, at(day, 11, 2),
           action=DecisionAction.REJECT)
    stuck = item(use_case, at(day, 9, 3), status=ItemStatus.ESCALATED)
    run(stuck, at(day, 9, 3), at(day, 9, 8), status=RunStatus.FAILED, failed_steps=("extract", "extract"))
    escalate(stuck, at(day, 9, 8))
    task(stuck, at(day, 9, 8), due=at(day, 12))  # open, overdue from noon
    sample = task(auto, at(day, 9, 0, 2), due=at(day, 18), done=at(day, 13), kind=QueueKind.SAMPLE_CHECK)
    decide(sample, clerk, at(day, 13), final={"category": "a", "iban": "DE02120300000000202051"})
    entry = connector(use_case.tenant)
    delivery(auto, entry, at(day, 9, 0, 2), delivered=at(day, 9, 1), failed_attempts=[at(day, 9, 0, 30)])
    delivery(corrected, entry, at(day, 10, 1), status=DeliveryStatus.DEAD, failed_attempts=[])
    # Not counted: a dry run of the same day.
    item(use_case, at(day, 9, 30), status=ItemStatus.APPLIED, finalised=at(day, 9, 31), dry_run=True)
    return {"auto": auto, "corrected": corrected, "rejected": rejected, "stuck": stuck}


EXPECTED = {
    "received": 4, "applied_auto": 1, "applied_manual": 1, "rejected": 1, "escalations": 1, "failed": 1,
    "decisions": 3, "corrected": 1, "backlog": 1, "sla_breaches": 1, "delivery_failures": 1, "deliveries_dead": 1,
    "delivered": 1, "step_failures": {"extract": 2},
    "field_corrections": {"category": [1, 2], "iban": [0, 2]},
    "latency_count": 3, "latency_p50_ms": 3_600_000, "latency_p95_ms": 7_200_000,
    "processing_p50_ms": 2000, "processing_p95_ms": 4000,
    "confidence_bands": [0, 0, 0, 0, 0, 0, 1, 0, 0, 3],
}
HOURS = timedelta(hours=1)
