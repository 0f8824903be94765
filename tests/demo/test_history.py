"""The quick start's demo history: weeks of items, reviews, escalations, deliveries and failures, so every chart of
the Leitstand has something on first login and work waits in the queues; the audit chain still verifies, and a
second run adds nothing."""
import time
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from automations.choices import EscalationState, ItemStatus
from automations.execution.selectors import work_item_identities
from automations.models import Escalation, WorkItem
from demo import history
from leitstand.dashboard import charts
from leitstand.models import DailyFigures
from leitstand.selectors import leitstand_report
from reviews.choices import OPEN_TASK_STATES, DecisionAction
from reviews.models import ReviewDecision, ReviewTask

pytestmark = pytest.mark.django_db


def test_the_history_fills_every_chart_keeps_the_chain_valid_and_is_written_once(demo_seeded, capsys):
    result = demo_seeded
    tenant = result.tenant
    items = WorkItem.objects.filter(tenant=tenant, external_id__startswith=history.MARKER)
    assert items.count() > 500
    assert set(items.values_list("use_case__key", flat=True).distinct()) == {
        "eingangsrechnungen", "belegklassifizierung", "service-tickets"}
    oldest = timezone.localdate(items.order_by("created_at").first().created_at)
    assert oldest == timezone.localdate() - timedelta(days=history.HISTORY_DAYS)
    statuses = set(items.values_list("status", flat=True))
    assert {ItemStatus.APPLIED, ItemStatus.REJECTED, ItemStatus.ESCALATED, ItemStatus.REVIEW} <= statuses
    assert ReviewDecision.objects.filter(tenant=tenant, action=DecisionAction.CORRECT).exclude(diff={}).exists()

    # Work waits on first login: open review tasks (some overdue) and open escalations for the department owner.
    open_tasks = ReviewTask.objects.filter(tenant=tenant, state__in=OPEN_TASK_STATES)
    assert open_tasks.exists() and open_tasks.filter(due_at__lt=timezone.now()).exists()
    assert Escalation.objects.filter(tenant=tenant, state=EscalationState.OPEN,
                                     contact=result.users["department_owner"]).exists()
    # An item whose processing failed before anything was found is still told apart in the escalations: an
    # invoice by the PDF that could not be read, a document by the opening of its text.
    failed = items.filter(status=ItemStatus.ESCALATED, reasons__0__startswith="Verarbeitung nach 3 Versuchen")
    identities = work_item_identities(items=failed.select_related("use_case"))
    invoices = [i for i in failed if i.use_case.key == "eingangsrechnungen"]
    assert invoices and all(identities[i.pk].files[0].endswith(".pdf") for i in invoices)
    assert invoices[0].files.get().file.read(5) == b"%PDF-"
    assert all(identities[i.pk].parts or identities[i.pk].files for i in failed)

    # Every chart of the Leitstand has something to show over the history's weeks.
    today = timezone.localdate()
    assert DailyFigures.objects.filter(tenant=tenant, day__lt=today).count() >= 3 * 30
    report = leitstand_report(tenant=tenant, since=today - timedelta(days=history.HISTORY_DAYS), until=today)
    assert [chart.key for chart in charts(report) if chart.empty] == []
    assert report.totals["delivery_failures"] > 0 and report.totals["sla_breaches"] > 0 and report.steps

    # The audit chain tells that the history was written in bulk, and still verifies.
    event = AuditEvent.objects.get(tenant=tenant, event_type="demo_history.created")
    assert event.details["items"] == items.count()
    call_command("verify_audit", "--tenant", tenant.slug)
    assert "muster:" in capsys.readouterr().out

    events, rows = AuditEvent.objects.count(), WorkItem.objects.count()
    started = time.perf_counter()
    assert history.seed(tenant, result.users) == 0
    assert time.perf_counter() - started < 1
    assert (AuditEvent.objects.count(), WorkItem.objects.count()) == (events, rows)


@pytest.mark.parametrize(("today", "back"), [
    (date(2026, 12, 7), 4),   # Monday: Thursday's items are overdue, Friday's and the weekend's open
    (date(2026, 12, 8), 4),   # Tuesday: from Friday on
    (date(2026, 12, 9), 2),   # Wednesday: from Monday on
    (date(2026, 12, 13), 3),  # Sunday: from Thursday on
])
def test_open_work_reaches_back_to_the_second_working_day(today, back):
    assert history._days_back_to_second_working_day(today) == back
