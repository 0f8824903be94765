"""File drops for ERP imports go through the same outbox as webhooks: CSV with configured columns in German
Excel's format (semicolon, decimal comma, dd.mm.yyyy, UTF-8 with BOM) or JSON Lines, written atomically into
a real folder, per item or one file per interval, with receipts, retries, dead letters and the circuit
breaker; a folder that is away (an unmounted share) is a failure like a receiver that is down."""
import csv
import io
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from automations.choices import ChangeKind, DeliveryStatus, ItemStatus
from automations.connectors.models import ConnectorCircuit, Delivery
from automations.connectors.services import deliveries, file_drops
from automations.execution.services.results import work_item_finalise
from automations.models import Escalation, UseCase, WorkItem
from automations.registry.connector_settings import file_drop_settings
from automations.registry.services import changes
from portal.models import Tenant
from tests.automations.connectors.conftest import approve_connector, name_connectors
from tests.automations.connectors.test_services_deliveries import api_get, submit, sweep_until
from tests.automations.factories import make_rules_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


def file_drop_connector(tenant, team, use_case, folder, key="erp-import", categories=(), **settings):
    entry = approve_connector(tenant, team, key, {
        "kind": "connector", "connector_type": "file_drop", "direction": "delivery", "name": f"ERP-Import {key}",
        "endpoint": str(folder), "approved_categories": list(categories),
        "settings": {"backoff": 0.01, "max_attempts": 3, **settings}})
    name_connectors(use_case, team, [key])
    return entry


def read_csv(path: Path, *, delimiter=";", bom=True) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_german_excel_csv_formats_numbers_and_dates_quotes_what_needs_it_and_keeps_odd_values():
    """The cells as German Excel reads them, from the field types the use case documents."""
    use_case = UseCase(key="eingangsrechnungen", output_fields=[
        {"name": "net_total", "type": "decimal"}, {"name": "issue_date", "type": "date"},
        {"name": "seller_name", "type": "text"}, {"name": "note", "type": "text"}])
    delivery = Delivery(item=WorkItem(use_case=use_case), tenant=Tenant(slug="muster"), webhook_id="msg_1",
                        event_type="work_item.applied", created_at=timezone.now())
    data = {"id": "it-1", "status": "applied", "fields": {
        "net_total": {"value": "1234.50"}, "issue_date": {"value": "2026-03-01"},
        "seller_name": {"value": 'Müller; "Söhne"\nGmbH'}, "note": {"value": "=HYPERLINK(\"x\")"}}}
    odd = {"id": "it-2", "status": "applied",
           "fields": {"net_total": {"value": "n/a"}, "issue_date": {"value": "03/01"}, "note": {"value": "-5"}}}
    settings = file_drop_settings({"profile": "de", "columns": [
        {"header": "Beleg", "value": "delivery_id"}, {"header": "Netto", "value": "net_total"},
        {"header": "Datum", "value": "issue_date"}, {"header": "Lieferant", "value": "seller_name"},
        "note", {"header": "Betrag als Text", "value": "net_total", "format": "text"}]})
    content = file_drops.csv_bytes([(delivery, data), (delivery, odd)], settings)

    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel recognises the encoding
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows == [
        ["Beleg", "Netto", "Datum", "Lieferant", "note", "Betrag als Text"],
        ["msg_1", "1234,50", "01.03.2026", 'Müller; "Söhne"\nGmbH', "'=HYPERLINK(\"x\")", "1234.50"],
        ["msg_1", "n/a", "03/01", "", "'-5", "n/a"],  # a value that is no number or date is kept as it is
    ]
    assert '"Müller; ""Söhne""\nGmbH"' in content.decode("utf-8-sig")  # quoted by the csv module
    assert content.count(b"\r\n") == 3  # three records; the line break inside the quoted name stays as it is

    standard = file_drops.csv_bytes([(delivery, data)], file_drop_settings({"columns": ["net_total", "issue_date"]}))
    assert standard.decode() == "net_total,issue_date\r\n1234.50,2026-03-01\r\n"
    with pytest.raises(ValidationError):
        file_drop_settings({"profile": "de", "delimiter": ","})  # the decimal comma needs another delimiter


def test_each_applied_item_is_written_atomically_as_its_own_csv_with_a_receipt_and_audit(
        tenant, team, run_on_commit, tmp_path):
    folder = tmp_path / "erp-import"
    folder.mkdir()
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    file_drop_connector(tenant, team, use_case, folder, profile="de", columns=[
        {"header": "Lieferungs-ID", "value": "delivery_id"}, {"header": "Vorgang", "value": "id"},
        {"header": "Belegart", "value": "document_class"}, {"header": "Status", "value": "status"}])
    item = submit(run_on_commit, team, tenant)
    assert item.status == ItemStatus.APPLIED

    delivery = Delivery.objects.get(item=item)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    name = f"belege_{delivery.webhook_id}.csv"
    assert files(folder) == [name]  # no temporary file left behind
    assert read_csv(folder / name) == [["Lieferungs-ID", "Vorgang", "Belegart", "Status"],
                                       [delivery.webhook_id, str(item.pk), "invoice", "applied"]]
    receipt = delivery.receipts.get()
    assert receipt.ok and name in receipt.response_excerpt and "1 result" in receipt.response_excerpt
    event = AuditEvent.objects.get(event_type="delivery.delivered", tenant=tenant)
    assert event.details["target"] == name and event.details["connector"] == "erp-import"
    shown = api_get(tenant, team["it_operator"], item)
    assert shown["deliveries"] == [{"connector": "ERP-Import erp-import", "status": "delivered", "attempts": 1,
                                    "delivered_at": delivery.delivered_at.isoformat()}]

    # A retry after a crash between the rename and the outbox's commit writes the same file, not a second.
    again = file_drops.file_drop_write(connector=delivery.connector, rows=[(delivery, shown)])
    assert again.ok and files(folder) == [name]


def test_json_lines_carry_the_delivery_id_and_the_item_as_the_api_shows_it(tenant, team, run_on_commit, tmp_path):
    use_case = make_rules_use_case(tenant, team, status="pilot", it_contact=team["it_operator"])
    file_drop_connector(tenant, team, use_case, tmp_path, format="jsonl", bom=True)
    item = submit(run_on_commit, team, tenant)
    assert item.status == ItemStatus.REVIEW and not Delivery.objects.filter(item=item).exists()
    run_on_commit(work_item_finalise, actor=team["clerk"], item=item, approved=False, final_values={})

    delivery = Delivery.objects.get(item=item)
    path = tmp_path / f"belege_{delivery.webhook_id}.jsonl"
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # JSON Lines never carry a BOM
    (line,) = [json.loads(text) for text in raw.decode().splitlines()]
    assert line["delivery_id"] == delivery.webhook_id and line["type"] == "work_item.rejected"
    assert line["tenant"] == tenant.slug and line["timestamp"]
    shown = api_get(tenant, team["it_operator"], item)
    assert {k: v for k, v in line["data"].items() if k != "deliveries"} == \
        {k: v for k, v in shown.items() if k != "deliveries"}


def test_batched_per_interval_every_due_result_goes_into_one_file_at_the_intervals_end(
        tenant, team, run_on_commit, tmp_path):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    connector = file_drop_connector(tenant, team, use_case, tmp_path, batch="interval", interval=60,
                                    columns=["delivery_id", "document_class"])
    items = [submit(run_on_commit, team, tenant, text=f"Mahnung Nr. {n}") for n in range(3)]
    pending = list(Delivery.objects.filter(item__in=items))
    assert {d.status for d in pending} == {DeliveryStatus.PENDING} and files(tmp_path) == []
    for delivery in pending:  # the end of the interval each result fell in
        assert delivery.next_attempt_at.timestamp() % 60 == 0
        assert delivery.created_at < delivery.next_attempt_at <= delivery.created_at + timedelta(seconds=60)
    assert run_on_commit(deliveries.deliveries_sweep) == 0  # not due yet

    Delivery.objects.filter(connector=connector).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert run_on_commit(deliveries.deliveries_sweep) == 3
    (name,) = files(tmp_path)
    assert name.startswith("erp-import_") and name.endswith(".csv")
    rows = read_csv(tmp_path / name, delimiter=",", bom=False)
    assert rows[0] == ["delivery_id", "document_class"]
    assert sorted(rows[1:]) == sorted([d.webhook_id, "reminder"] for d in pending)
    for delivery in Delivery.objects.filter(connector=connector):
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.receipts.count() == 1
    assert AuditEvent.objects.filter(event_type="delivery.delivered", tenant=tenant).count() == 3
    assert ConnectorCircuit.objects.get(entry=connector).last_success_at is not None


def test_a_folder_that_is_away_opens_the_breaker_the_results_wait_and_all_arrive_when_it_is_back(
        tenant, team, run_on_commit, tmp_path):
    folder = tmp_path / "share"
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    connector = file_drop_connector(tenant, team, use_case, folder, max_attempts=20, circuit_failures=2,
                                    circuit_cooldown=0.3)
    items = [submit(run_on_commit, team, tenant, text=f"Lieferschein {n}") for n in range(3)]
    sweep_until(run_on_commit, lambda: ConnectorCircuit.objects.filter(entry=connector, state="open").exists())
    waiting = Delivery.objects.filter(item__in=items)
    assert all(d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED) for d in waiting)
    assert "does not exist" in Delivery.objects.filter(item__in=items).exclude(last_error="").first().last_error
    # Opened once after two failures in a row (a failed trial during the cool-downs re-opens it, audited too).
    assert AuditEvent.objects.filter(event_type="connector_circuit.opened", tenant=tenant,
                                     details__from="closed").count() == 1

    folder.mkdir()  # the share is mounted again
    sweep_until(run_on_commit, lambda: all(d.status == DeliveryStatus.DELIVERED
                                           for d in Delivery.objects.filter(item__in=items)))
    assert len(files(folder)) == 3
    assert ConnectorCircuit.objects.get(entry=connector).state == "closed"
    assert not Escalation.objects.filter(item__in=items).exists()


def test_the_last_failed_write_makes_a_dead_letter_escalated_to_it_and_redelivered(
        tenant, team, run_on_commit, tmp_path):
    folder = tmp_path / "share"
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"],
                                   manual_fallback="Importdatei von Hand erzeugen.")
    file_drop_connector(tenant, team, use_case, folder, max_attempts=2)
    item = submit(run_on_commit, team, tenant)
    delivery = Delivery.objects.get(item=item)
    sweep_until(run_on_commit, lambda: Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DEAD)
    escalation = Escalation.objects.get(item=item)
    assert escalation.contact == team["it_operator"] and escalation.manual_fallback == "Importdatei von Hand erzeugen."
    assert AuditEvent.objects.filter(event_type="delivery.dead", tenant=tenant).count() == 1

    folder.mkdir()
    run_on_commit(deliveries.delivery_redeliver, actor=team["it_operator"], delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert files(folder) == [f"belege_{delivery.webhook_id}.csv"]


def test_a_write_that_fails_before_the_rename_leaves_neither_a_file_nor_a_temporary_one(tmp_path, monkeypatch):
    def no_rename(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError):
        file_drops.write_atomically(tmp_path, "x.csv", b"a;b\r\n")
    assert files(tmp_path) == []


def test_the_catalogue_refuses_a_file_drop_it_could_not_write(tenant, team):
    def propose(endpoint, **settings):
        return changes.change_request_create(
            actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE, title="ERP-Import",
            description="Import", payload={"key": "erp-import", "fields": {
                "kind": "connector", "connector_type": "file_drop", "direction": "delivery", "name": "ERP-Import",
                "endpoint": endpoint, "settings": settings}})

    for endpoint, settings, reason in (
            ("erp/import", {}, "absolute folder path"),
            ("/srv/erp", {"format": "xlsx"}, "csv or jsonl"),
            ("/srv/erp", {"profile": "de", "delimiter": ","}, "must differ"),
            ("/srv/erp", {"batch": "interval", "interval": 1}, "between 10 and 86400"),
            ("/srv/erp", {"columns": [{"header": "Netto"}]}, "names its value")):
        with pytest.raises(ValidationError) as refused:
            propose(endpoint, **settings)
        assert reason in " ".join(refused.value.messages)
    assert propose("/srv/erp", profile="de", batch="interval", interval=300).payload["fields"]["endpoint"] == "/srv/erp"


def test_a_file_drop_in_test_mode_records_the_file_it_would_write_and_writes_nothing(
        tenant, team, run_on_commit, tmp_path):
    use_case = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    file_drop_connector(tenant, team, use_case, tmp_path, profile="de", batch="interval", interval=60,
                        test_mode=True, columns=["delivery_id", "document_class"])
    item = submit(run_on_commit, team, tenant)
    delivery = Delivery.objects.get(item=item)
    assert delivery.test and delivery.status == DeliveryStatus.DELIVERED  # at once: a test is not batched
    assert files(tmp_path) == []  # never into the production folder
    (receipt,) = delivery.receipts.all()
    # named as the batch file it would have gone into
    assert receipt.target == "" and "erp-import_" in receipt.response_excerpt and ".csv" in receipt.response_excerpt
    assert receipt.recorded_body == f"delivery_id;document_class\r\n{delivery.webhook_id};invoice\r\n"
    assert not ConnectorCircuit.objects.filter(entry=delivery.connector, consecutive_failures__gt=0).exists()
