"""Some weeks of demo history for the quick start, so that queues, oversight figures and the Leitstand's charts
have something to show on first login: items of the three demo use cases applied automatically, approved,
corrected, rejected, escalated and failed, with their runs, steps, suggestions, review tasks and decisions,
escalations and deliveries — and, from the last two working days, open review tasks (some overdue) and open
escalations.

A bulk seed, documented as such: the rows are written directly with the times they would have had (the
pipeline and the review services stamp "now"), in a few bulk inserts instead of running a thousand items
through the engines. They carry no audit events of their own — the audit chain records what happened, and
this did not happen — but one event `demo_history.created` through the audit service says that the history
was written and how much of it, so `verify_audit` passes and the trail does not pretend. The deliveries go to a
connector of their own, "ERP (Demo-Historie)", added through an approved catalogue change request and inactive:
no new result is ever sent there. The Leitstand's daily figures of the seeded days are computed at the end.

Idempotent and cheap on a second run: it looks for one marker (the items' external id prefix) and stops."""
import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from automations.choices import (
    ChangeKind,
    DeliveryStatus,
    EscalationState,
    ItemSource,
    ItemStatus,
    RunStatus,
    RunTrigger,
    StepStatus,
)
from automations.connectors.models import Delivery, DeliveryAttempt
from automations.execution.services.intake import store_files
from automations.fields import field_label
from automations.models import CatalogueEntry, Escalation, Run, StepRun, Suggestion, UseCase, WorkItem
from automations.registry.selectors import label_map
from automations.registry.services import changes
from demo.invoices import DEMO_SUPPLIERS, DemoInvoice, DemoLine, render_invoice
from demo.reviews import DEMO_TEAMS
from demo.use_cases import CHOICE_TEXTS, DEMO_CUSTOMERS, DOCUMENT_CLASSES, TICKET_PRIORITIES, TICKET_QUEUES
from leitstand.services import daily_figures_refresh_range
from reviews.choices import DecisionAction, QueueKind, TaskState
from reviews.models import ReviewDecision, ReviewTask
from reviews.services import review_queue_ensure

HISTORY_DAYS = 42  # six weeks before today, and today until an hour ago
MARKER = "demo-history:"
CONNECTOR_KEY = "demo-history-erp"
STEPS = ("read", "extract", "decide", "check", "validate", "guard", "route", "deliver")
CLERKS = ("clerk", "clerk_2")


def _clerks_for(key: str) -> tuple[str, ...]:
    """Who decided a use case's tasks: the demo clerks of its team (demo.reviews.DEMO_TEAMS)."""
    return tuple(name for name, keys in DEMO_TEAMS.items() if key in keys) or CLERKS


def _profiles() -> dict:
    """Per use case: items a weekday, the outcome shares (auto, approve, correct, reject, escalate, fail, transient
    failure retried), the engine, which fields clerks correct, and how the confidence drifts (per day back)."""
    return {
        "eingangsrechnungen": {"per_day": 14, "outcomes": (0.55, 0.17, 0.12, 0.04, 0.03, 0.03, 0.06),
                               "engine": "invoice", "corrected": ("gross_total", "seller_vat_id", "issue_date", "iban"),
                               "drift": 0.0},
        "belegklassifizierung": {"per_day": 10, "outcomes": (0.62, 0.18, 0.1, 0.03, 0.02, 0.02, 0.03),
                                 "engine": "classifier", "corrected": ("document_class",), "drift": 0.0},
        # New products since two weeks: tickets the classifier never saw, so confidence sinks (drift).
        "service-tickets": {"per_day": 16, "outcomes": (0.45, 0.22, 0.18, 0.04, 0.04, 0.02, 0.05),
                            "engine": "classifier", "corrected": ("queue", "priority"), "drift": 0.012},
    }


def _at(day, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_default_timezone())


class _History:
    """Collects the rows of the history in memory and writes them in dependency order, a bulk insert each."""

    def __init__(self, tenant, users, connector, rng: random.Random, now: datetime):
        self.tenant, self.users, self.connector, self.rng, self.now = tenant, users, connector, rng, now
        self.items: list[WorkItem] = []
        self.runs: list[Run] = []
        self.steps: list[StepRun] = []
        self.suggestions: list[Suggestion] = []
        self.tasks: list[ReviewTask] = []
        self.decisions: list[ReviewDecision] = []
        self.escalations: list[Escalation] = []
        self.deliveries: list[Delivery] = []
        self.attempts: list[DeliveryAttempt] = []
        self.queues: dict = {}
        self.files: list[tuple[WorkItem, DemoInvoice]] = []
        self.counter = 0

    def queue(self, use_case, kind):
        key = (use_case.pk, kind)
        if key not in self.queues:
            self.queues[key] = review_queue_ensure(use_case=use_case, kind=kind)
        return self.queues[key]

    # --- one item's values ------------------------------------------------------------------------------

    def values(self, use_case) -> tuple[dict, dict]:
        """(payload, {field: value}) of a plausible item of the use case."""
        rng = self.rng
        if use_case.key == "eingangsrechnungen":
            supplier = rng.choice(DEMO_SUPPLIERS)
            net = Decimal(rng.randrange(4_000, 480_000)) / 100
            tax = (net * Decimal("0.19")).quantize(Decimal("0.01"))
            values = {"invoice_number": f"RE-{rng.randrange(10_000, 99_999)}", "document_type": "invoice",
                      "issue_date": (self.now.date() - timedelta(days=rng.randrange(1, 60))).isoformat(),
                      "seller_name": supplier["name"], "seller_vat_id": supplier["vat_id"], "buyer_name": "Muster GmbH",
                      "net_total": str(net), "tax_total": str(tax), "gross_total": str(net + tax),
                      "amount_due": str(net + tax), "currency": "EUR", "iban": supplier["iban"]}
            return {}, values
        if use_case.key == "belegklassifizierung":
            document_class = rng.choice(DOCUMENT_CLASSES)
            return ({"text": f"Beleg ({CHOICE_TEXTS[document_class][0]}) aus dem Posteingang"},
                    {"document_class": document_class})
        number, name, email = rng.choice(DEMO_CUSTOMERS)
        queue, priority = rng.choice(TICKET_QUEUES), rng.choice(TICKET_PRIORITIES)
        topic = CHOICE_TEXTS[queue][0]
        payload = {"subject": f"Anfrage zu {topic}", "body": f"Guten Tag, wir haben eine Frage ({topic}). {name}",
                   "sender_email": email, "customer_number": number}
        return payload, {"queue": queue, "priority": priority}

    def invoice(self, values: dict) -> DemoInvoice:
        """The invoice a bulk item's values came from, as its supplier would have sent it (one line at 19 %)."""
        supplier = next(n for n, s in enumerate(DEMO_SUPPLIERS) if s["name"] == values["seller_name"])
        issued = datetime.fromisoformat(values["issue_date"]).date()
        return DemoInvoice(filename=f"{values['invoice_number']}.pdf", supplier=supplier,
                           number=values["invoice_number"], issue_date=issued.isoformat(),
                           delivery_date=issued.isoformat(), due_date=(issued + timedelta(days=30)).isoformat(),
                           lines=(DemoLine("Leistungen laut Vereinbarung", Decimal(1), Decimal(values["net_total"]),
                                           Decimal(19)),),
                           with_xml=False, layout=self.rng.choice(("letter", "modern")))

    def add_item(self, use_case, release, profile, received: datetime, days_back: int, recent: bool) -> None:
        rng = self.rng
        self.counter += 1
        payload, values = self.values(use_case)
        auto, approve, correct, reject, escalate, fail, transient = profile["outcomes"]
        drift = profile["drift"] * max(0, 14 - days_back)  # the last two weeks sink
        draw = rng.random()
        bounds = [auto - drift, auto + approve - drift / 2, auto + approve + correct, auto + approve + correct + reject,
                  auto + approve + correct + reject + escalate, auto + approve + correct + reject + escalate + fail]
        outcome = next((name for name, bound in zip(("auto", "approve", "correct", "reject", "escalate", "fail"),
                                                    bounds) if draw < bound), "approve")
        item = WorkItem(tenant=self.tenant, use_case=use_case, source=rng.choice((ItemSource.API, ItemSource.UPLOAD,
                                                                                  ItemSource.FOLDER)),
                        external_id=f"{MARKER}{self.counter}", content_hash=uuid.uuid4().hex, payload=payload,
                        release=release, created_at=received, updated_at=received)
        self.items.append(item)
        started = received + timedelta(seconds=rng.uniform(0.5, 4))
        attempt, failed_step, failed_at = 1, None, started
        if rng.random() < transient or outcome == "fail":  # an attempt that failed at a step
            failed_step = rng.choice(("read", "extract", "check") if profile["engine"] == "invoice" else
                                     ("extract", "check"))
            if outcome == "fail":  # and failed again on every retry: escalated, in the clarification queue
                gave_up = started + timedelta(minutes=2)
                run = Run(tenant=self.tenant, item=item, release=release, label="production", status=RunStatus.FAILED,
                          trigger=RunTrigger.RETRY, attempt=3, created_at=received, started_at=started,
                          finished_at=gave_up, error=f"{failed_step}: Zeitüberschreitung")
                self.runs.append(run)
                for number in (1, 2, 3):
                    self.steps.append(StepRun(tenant=self.tenant, run=run, step=failed_step, attempt=number,
                                              status=StepStatus.FAILED, duration_ms=2000, error="Zeitüberschreitung",
                                              started_at=started + timedelta(seconds=50 * (number - 1))))
                if use_case.key == "eingangsrechnungen":  # the PDF that could not be read stays with the item
                    item.source = rng.choice((ItemSource.UPLOAD, ItemSource.FOLDER))
                    self.files.append((item, self.invoice(values)))
                self.failed(item, use_case, gave_up, recent)
                return
            attempt = 2
            started += timedelta(seconds=rng.uniform(10, 60))
        finished = started + timedelta(seconds=rng.uniform(1.5, 9) if profile["engine"] == "invoice" else
                                       rng.uniform(0.3, 2))
        run = Run(tenant=self.tenant, item=item, release=release, label="production", status=RunStatus.SUCCEEDED,
                  trigger=RunTrigger.RETRY if attempt > 1 else RunTrigger.INTAKE, attempt=attempt,
                  created_at=received, started_at=started, finished_at=finished)
        self.runs.append(run)
        if failed_step:  # the first attempt of this run, retried with success
            self.steps.append(StepRun(tenant=self.tenant, run=run, step=failed_step, status=StepStatus.FAILED,
                                      started_at=failed_at, duration_ms=2000, error="Zeitüberschreitung"))
        low = set() if outcome == "auto" else set(rng.sample(profile["corrected"], k=1))
        fields = {}
        for name, value in values.items():
            # Drift lowers the confidence of the items that went to review; applied ones met the thresholds.
            confidence = round(rng.uniform(0.5, 0.88) if name in low else
                               rng.uniform(0.955, 0.999) - (0 if outcome == "auto" else drift * rng.random()), 4)
            fields[name] = {"value": value, "confidence": confidence, "engine": profile["engine"], "explanation": "",
                            "reasons": []}
            self.suggestions.append(Suggestion(tenant=self.tenant, run=run, item=item, field=name, value=value,
                                               confidence=confidence, engine=profile["engine"], created_at=finished))
        item.fields = fields
        routed = "applied" if outcome == "auto" else "review"
        for step in STEPS:
            status = StepStatus.SKIPPED if step == "deliver" and routed != "applied" else StepStatus.OK
            self.steps.append(StepRun(tenant=self.tenant, run=run, step=step, status=status, attempt=attempt,
                                      started_at=finished, duration_ms=rng.randrange(5, 400),
                                      details={"outcome": routed} if step == "route" else {}))
        if outcome == "auto":
            item.status, item.finalised_at, item.updated_at = ItemStatus.APPLIED, finished, finished
            self.deliver(item, finished)
            if rng.random() < 0.1:  # a sample check of an applied item
                self.review(item, use_case, finished, "sample", recent=False, low=set())
            return
        # The pipeline's own reason, in the portal's language, naming the fields by their labels.
        item.status, item.reasons = ItemStatus.REVIEW, [_("Low confidence: %(fields)s") % {"fields": ", ".join(
            field_label(use_case.output_field(name), name) for name in sorted(low))}]
        self.review(item, use_case, finished, outcome, recent=recent, low=low)

    def review(self, item, use_case, created: datetime, outcome: str, *, recent: bool, low: set) -> None:
        rng = self.rng
        kind = QueueKind.SAMPLE_CHECK if outcome == "sample" else QueueKind.REVIEW
        queue = self.queue(use_case, kind)
        due = created + timedelta(hours=queue.sla_hours)
        task = ReviewTask(tenant=self.tenant, item=item, queue=queue, use_case=use_case, reasons=item.reasons or [],
                          priority=4 if outcome == "sample" else 3, due_at=due, created_at=created)
        self.tasks.append(task)
        # About one review in eight is done after its due time (an SLA breach).
        decided = created + timedelta(hours=rng.uniform(0.2, 20) if rng.random() > 0.12 else rng.uniform(25, 40))
        if recent or decided >= self.now - timedelta(minutes=5):
            return  # still open: work waiting on first login (overdue where the SLA has passed)
        clerk = self.users[rng.choice([n for n in _clerks_for(use_case.key) if n in self.users] or CLERKS)]
        final = {name: spec["value"] for name, spec in item.fields.items()}
        diff = {}
        action = {"approve": DecisionAction.APPROVE, "sample": DecisionAction.APPROVE,
                  "correct": DecisionAction.CORRECT, "reject": DecisionAction.REJECT,
                  "escalate": DecisionAction.ESCALATE}[outcome]
        if action == DecisionAction.CORRECT:
            for name in low:
                before = final[name]
                final[name] = self.corrected(use_case, name, before)
                diff[name] = {"suggested": before, "final": final[name], "confidence": item.fields[name]["confidence"]}
        comment = {DecisionAction.REJECT: "Keine Rechnung an uns / Dublette",
                   DecisionAction.ESCALATE: "Unklarer Fall, bitte fachlich prüfen"}.get(action, "")
        self.decisions.append(ReviewDecision(tenant=self.tenant, task=task, item=item, actor=clerk, action=action,
                                             final_fields=final if action in (DecisionAction.APPROVE,
                                                                              DecisionAction.CORRECT) else {},
                                             diff=diff, comment=comment, created_at=decided,
                                             time_on_task_ms=rng.randrange(15_000, 180_000)))
        if outcome == "sample":
            task.state, task.done_at = TaskState.DONE, decided
            return
        if action == DecisionAction.ESCALATE:
            task.state = TaskState.ESCALATED
            item.status, item.updated_at = ItemStatus.ESCALATED, decided
            self.escalate(item, use_case, decided, comment)
            return
        task.state, task.done_at = TaskState.DONE, decided
        for name in item.fields:
            item.fields[name] = {**item.fields[name], "value": final[name], "decided_by": clerk.username}
        item.updated_at, item.finalised_at = decided, decided
        if action == DecisionAction.REJECT:
            item.status = ItemStatus.REJECTED
        else:
            item.status = ItemStatus.APPLIED
            self.deliver(item, decided)

    def corrected(self, use_case, name: str, before):
        rng = self.rng
        if name in ("document_class", "queue", "priority"):
            choices = {"document_class": DOCUMENT_CLASSES, "queue": TICKET_QUEUES, "priority": TICKET_PRIORITIES}[name]
            return rng.choice([c for c in choices if c != before])
        if name == "gross_total":
            return str(Decimal(before) + Decimal(rng.randrange(1, 900)) / 100)
        if name == "issue_date":
            return (datetime.fromisoformat(before) - timedelta(days=1)).date().isoformat()
        supplier = rng.choice(DEMO_SUPPLIERS)
        return supplier["vat_id"] if name == "seller_vat_id" else supplier["iban"]

    def failed(self, item, use_case, when: datetime, recent: bool) -> None:
        reason = "Verarbeitung nach 3 Versuchen fehlgeschlagen: Zeitüberschreitung"
        item.status, item.reasons, item.updated_at = ItemStatus.ESCALATED, [reason], when
        self.escalate(item, use_case, when, reason, open_=recent)
        self.tasks.append(ReviewTask(tenant=self.tenant, item=item, queue=self.queue(use_case, QueueKind.CLARIFICATION),
                                     use_case=use_case, reasons=[reason], priority=1, created_at=when,
                                     due_at=when + timedelta(hours=24),
                                     state=TaskState.OPEN if recent else TaskState.DONE,
                                     done_at=None if recent else when + timedelta(hours=self.rng.uniform(1, 20))))

    def escalate(self, item, use_case, when: datetime, reason: str, open_: bool | None = None) -> None:
        recent = when > self.now - timedelta(days=3) if open_ is None else open_
        closed = None if recent else when + timedelta(hours=self.rng.uniform(2, 30))
        self.escalations.append(Escalation(
            tenant=self.tenant, item=item, reason=reason, contact=use_case.escalation_contact,
            manual_fallback=use_case.manual_fallback, created_at=when,
            state=EscalationState.OPEN if recent else EscalationState.CLOSED, closed_at=closed,
            resolution="" if recent else "Manuell im ERP erfasst."))

    def deliver(self, item, when: datetime) -> None:
        rng = self.rng
        delivery = Delivery(tenant=self.tenant, connector=self.connector, item=item, event_type="work_item.applied",
                            webhook_id=f"msg_{uuid.uuid4().hex}", created_at=when, next_attempt_at=when)
        self.deliveries.append(delivery)
        failures = 5 if rng.random() < 0.01 else (rng.randrange(1, 3) if rng.random() < 0.08 else 0)
        moment = when
        for number in range(1, failures + 1):
            self.attempts.append(DeliveryAttempt(tenant=self.tenant, delivery=delivery, number=number,
                                                 started_at=moment, ok=False, status_code=503, latency_ms=120,
                                                 error="HTTP 503"))
            moment += timedelta(seconds=30 * 2 ** number)
        delivery.attempts = failures
        if failures >= 5:
            delivery.status, delivery.last_error = DeliveryStatus.DEAD, "HTTP 503"
            return
        self.attempts.append(DeliveryAttempt(tenant=self.tenant, delivery=delivery, number=failures + 1,
                                             started_at=moment, ok=True, status_code=200,
                                             latency_ms=rng.randrange(40, 400)))
        delivery.attempts, delivery.status, delivery.delivered_at = failures + 1, DeliveryStatus.DELIVERED, moment

    def save(self) -> None:
        batches: list[tuple[Any, list]] = [  # (model, its rows), each model of its own type
            (WorkItem, self.items), (Run, self.runs), (StepRun, self.steps), (Suggestion, self.suggestions),
            (ReviewTask, self.tasks), (ReviewDecision, self.decisions), (Escalation, self.escalations),
            (Delivery, self.deliveries), (DeliveryAttempt, self.attempts)]
        for model, rows in batches:
            model.objects.bulk_create(rows, batch_size=1000)
        for item, invoice in self.files:
            store_files(item, [(invoice.filename, render_invoice(invoice), "application/pdf")])


def _connector(tenant, users) -> CatalogueEntry:
    """The history's deliveries went to an ERP interface that the catalogue keeps, inactive: nothing new goes
    there. Added as every catalogue entry is: a change request that IT proposes and the ISB approves."""
    entry = CatalogueEntry.objects.for_tenant(tenant).filter(key=CONNECTOR_KEY).first()
    if entry is not None:
        return entry
    cr = changes.change_request_create(
        actor=users["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE, title="Konnektor ERP (Demo-Historie)",
        description="Schnellstart: Die Zustellungen der Demo-Historie gingen an diese ERP-Schnittstelle; sie ist "
                    "abgeschaltet.",
        payload={"key": CONNECTOR_KEY, "fields": {
            "kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": "ERP (Demo-Historie)",
            "endpoint": "https://erp.muster.example/hooks/leitplanke", "location": "Demo", "is_active": False}})
    for role in list(cr.required_roles):
        approver = users[role] if users[role].pk != cr.author_id else users["automation_lead_2"]
        cr = changes.change_request_approve(actor=approver, change_request=cr, role=role, comment="Demo-Freigabe")
    return CatalogueEntry.objects.for_tenant(tenant).get(key=CONNECTOR_KEY)


def _days_back_to_second_working_day(today) -> int:
    """Items from the last two working days (and what came since) are still open on first login. Their review
    tasks' SLA of a day has passed for those of the earlier day at any hour: some work is overdue also on a
    Monday morning or just after midnight."""
    back = working_days = 0
    while working_days < 2:
        back += 1
        working_days += (today - timedelta(days=back)).weekday() < 5
    return back


def seed(tenant, users, *, now: datetime | None = None, days: int = HISTORY_DAYS) -> int:
    """Write the history once; returns the number of items written (0 when it exists already)."""
    if WorkItem.objects.for_tenant(tenant).filter(external_id__startswith=MARKER).exists():
        return 0
    if any(name not in users for name in (*CLERKS, "it_operator", "automation_lead_2")):
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    profiles = _profiles()
    use_cases = {u.key: u for u in UseCase.objects.for_tenant(tenant).filter(key__in=profiles)}
    releases = {key: label_map(use_case=u).get("production") for key, u in use_cases.items()}
    if not use_cases or not all(releases.values()):
        return 0
    rng = random.Random(f"{tenant.slug}-history")
    open_from = _days_back_to_second_working_day(today)
    with transaction.atomic():
        history = _History(tenant, users, _connector(tenant, users), rng, now)
        for days_back in range(days, -1, -1):
            day = today - timedelta(days=days_back)
            weekend = day.weekday() >= 5
            for key, use_case in sorted(use_cases.items()):
                per_day = profiles[key]["per_day"]
                count = rng.randrange(1, 4) if weekend else rng.randrange(per_day * 3 // 4, per_day * 5 // 4 + 1)
                for _n in range(count):
                    received = _at(day, rng.randrange(7, 18), rng.randrange(0, 60))
                    if received > now - timedelta(hours=1):
                        continue
                    history.add_item(use_case, releases[key], profiles[key], received, days_back,
                                     recent=days_back <= open_from)
        history.save()
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="demo_history.created", obj=None,
                           details={"items": len(history.items), "days": days, "decisions": len(history.decisions),
                                    "escalations": len(history.escalations), "deliveries": len(history.deliveries)})
    daily_figures_refresh_range(tenant=tenant, since=today - timedelta(days=days), until=today, now=now)
    return len(history.items)
