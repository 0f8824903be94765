"""Retention: work items go when their use case's period ends (not under a legal hold, not while open); audit
events are never removed by it; old audit events go only through the anchored purge, after which
verification (and an offline-checked export) still passes."""
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit import signing
from audit.actors import SYSTEM
from audit.models import AuditAnchor, AuditEvent, SubjectReference
from audit.services import events as audit_services
from audit.services.events import access_event_record, audit_event_record
from audit.tasks import retention_sweep_task
from automations.models import WorkItem
from tests.audit.conftest import run_verify, tamper
from tests.audit.dsb.test_export import check

pytestmark = pytest.mark.django_db


def _age(item, days: int) -> None:
    WorkItem.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_items_past_their_retention_are_deleted_unless_held_or_open(world, django_capture_on_commit_callbacks):
    items = world["items"]
    old_closed, held, young = items["invoice"], items["otto_plain"], items["otto_ticket"]
    WorkItem.objects.filter(pk=old_closed.pk).update(status="applied")
    _age(old_closed, 4030)  # invoices: ten years from the end of the year of receipt
    WorkItem.objects.filter(pk=held.pk).update(legal_hold=True, status="applied")
    _age(held, 400)  # tickets: 365 days
    letter = items["erika_letter"]  # in review: open
    _age(letter, 400)
    files = [f.file.name for f in letter.files.all()]
    audit_before = set(AuditEvent.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        deleted = retention_sweep_task()

    assert deleted == 1
    assert not WorkItem.objects.filter(pk=old_closed.pk).exists()
    assert WorkItem.objects.filter(pk__in=[held.pk, young.pk, letter.pk]).count() == 3
    assert all(default_storage.exists(name) for name in files)
    recorded = AuditEvent.objects.get(event_type="work_item.retention_deleted")
    assert recorded.object_id == str(old_closed.pk) and recorded.details["retention_days"] == 3650
    assert audit_before <= set(AuditEvent.objects.values_list("pk", flat=True))  # no audit event removed
    assert run_verify("--tenant", "muster")[0] == 0


def test_a_restricted_item_goes_when_its_retention_duty_ends(world, django_capture_on_commit_callbacks):
    invoice = world["items"]["invoice"]
    WorkItem.objects.filter(pk=invoice.pk).update(restricted=True, status="review")
    _age(invoice, 4030)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_sweep_task() == 1
    assert not WorkItem.objects.filter(pk=invoice.pk).exists()


@pytest.fixture
def old_chain(make_tenant, make_user, monkeypatch, settings, tmp_path):
    """Muster GmbH, set up 200 days ago: its first 20 audit events and 3 access events are from then, 5 audit
    events and 1 access event from today."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    then = timezone.now() - timedelta(days=200)
    monkeypatch.setattr(audit_services.timezone, "now", lambda: then)
    tenant = make_tenant("muster", "Muster GmbH")
    clerk = make_user("clerk", tenant=tenant)
    count = AuditEvent.objects.filter(tenant=tenant).count()
    for step in range(20 - count):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", details={"step": step})
    for _ in range(3):
        access_event_record(actor=clerk, tenant=tenant, purpose="review", subject_pseudonym="ps_" + "a" * 20)
    monkeypatch.undo()
    for step in range(5):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", details={"step": f"new {step}"})
    access_event_record(actor=clerk, tenant=tenant, purpose="review", subject_pseudonym="ps_" + "a" * 20)
    return str(tenant.pk)


def purge(*args) -> tuple[int, list[str]]:
    out = StringIO()
    try:
        call_command("purge_audit", *args, stdout=out)
        return 0, out.getvalue().splitlines()
    except CommandError as error:
        return 1, [str(error)]


def test_purge_refuses_events_younger_than_six_months(old_chain):
    code, lines = purge("--before", f"{timezone.localdate() - timedelta(days=100):%Y-%m-%d}")
    assert code == 1 and "kept at least 183 days" in lines[0]
    assert AuditEvent.objects.filter(chain=old_chain).count() >= 25


def test_after_an_anchored_purge_verification_starts_at_the_anchor_and_passes(old_chain, settings):
    from audit.services.checkpoints import checkpoints_sign

    checkpoints_sign()
    before_count = AuditEvent.objects.filter(chain=old_chain).count()
    last_old = AuditEvent.objects.get(chain=old_chain, sequence=20)

    code, lines = purge("--before", f"{timezone.localdate() - timedelta(days=190):%Y-%m-%d}", "--tenant", "muster")

    assert code == 0, lines
    assert lines == [f"muster: {last_old.sequence} events removed, anchored at sequence {last_old.sequence}",
                     "muster/access: 3 events removed, anchored at sequence 3"]
    anchor = AuditAnchor.objects.get(chain=old_chain)
    assert (anchor.sequence, anchor.hash) == (last_old.sequence, last_old.hash)
    assert signing.statement_is_valid(anchor.statement)
    assert (settings.AUDIT_CHECKPOINT_DIR / old_chain / f"{anchor.sequence:012d}-anchor.json").exists()
    remaining = AuditEvent.objects.filter(chain=old_chain)
    assert remaining.order_by("sequence").first().sequence == last_old.sequence + 1
    assert remaining.filter(event_type="audit.purged").count() == 2  # one per chain, recorded in the audit chain
    assert not SubjectReference.objects.filter(stream="access", sequence__lte=3).exists()
    code, lines = run_verify("--tenant", "muster")
    assert code == 0, lines
    assert lines == [f"muster: {before_count - 20 + 2} events ok", "muster/access: 1 events ok"]


def test_without_a_valid_anchor_the_purged_chain_fails(old_chain, settings):
    purge("--before", f"{timezone.localdate() - timedelta(days=190):%Y-%m-%d}", "--tenant", "muster")
    for path in settings.AUDIT_CHECKPOINT_DIR.rglob("*-anchor.json"):
        path.unlink()
    anchor = AuditAnchor.objects.get(chain=old_chain)
    forged = anchor.statement | {"sequence": anchor.sequence + 2}
    tamper(("UPDATE audit_auditanchor SET statement = %s WHERE id = %s", [json.dumps(forged), anchor.pk]))

    code, lines = run_verify("--tenant", "muster")

    assert code == 1 and lines[0] == "muster: sequence 1: missing"


def test_an_export_after_a_purge_verifies_offline_from_the_anchor(old_chain, make_user, client, tmp_path):
    from portal.choices import Role
    from portal.models import Tenant
    from tests.access import login

    purge("--before", f"{timezone.localdate() - timedelta(days=190):%Y-%m-%d}", "--tenant", "muster")
    tenant = Tenant.objects.get(slug="muster")
    dsb = login(client, make_user("dsb", tenant=tenant, roles=[Role.DATA_PROTECTION_OFFICER]), tenant)
    response = dsb.get("/audit/events/export/", {"format": "jsonl"})
    path = tmp_path / "after-purge.jsonl"
    path.write_bytes(b"".join(response.streaming_content))

    code, output = check(path, "--public-key", signing.public_key_b64())

    assert code == 0, output
    assert "chain 21.." in output


def test_invoices_are_kept_to_the_end_of_the_calendar_year_ten_years_on(world, django_capture_on_commit_callbacks):
    """§ 147 AO / § 257 HGB: an invoice received in March 2016 is kept through 31 December 2026, not 3,650 days."""
    from datetime import datetime

    from audit.services.retention import work_items_retention_sweep

    here = timezone.get_current_timezone()

    invoice = world["items"]["invoice"]
    received = datetime(2016, 3, 1, 10, 0, tzinfo=here)
    WorkItem.objects.filter(pk=invoice.pk).update(created_at=received, status="applied")
    assert world["invoices"].retention_end(received) == datetime(2027, 1, 1, tzinfo=here)
    with django_capture_on_commit_callbacks(execute=True):
        assert work_items_retention_sweep(now=datetime(2026, 12, 31, 23, 0, tzinfo=here)).deleted == 0
    assert WorkItem.objects.filter(pk=invoice.pk).exists()  # 3,650 days would have ended in February 2026
    with django_capture_on_commit_callbacks(execute=True):
        assert work_items_retention_sweep(now=datetime(2027, 1, 1, 1, 0, tzinfo=here)).deleted == 1
    assert not WorkItem.objects.filter(pk=invoice.pk).exists()
