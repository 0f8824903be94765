"""File drops with real processes: a real Celery worker on Redis and PostgreSQL writes the applied items of a
file drop that batches per interval into the ERP's import folder, one file per interval, each result in
exactly one file, none half-written, each with one receipt."""
import csv
import io
import time

import pytest

from automations.choices import DeliveryStatus, ItemStatus
from automations.connectors.models import Delivery
from automations.connectors.services import deliveries
from automations.execution.services import intake
from automations.execution.services import runs as pipeline
from automations.models import WorkItem
from tests.automations.connectors.test_services_file_drops import file_drop_connector
from tests.integration.builders import live_use_case
from tests.integration.conftest import wait_until
from tests.integration.test_pipeline_worker import assert_audit_chain_intact

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 8
INTERVAL = 10  # the shortest interval a file drop allows


_last = [0.0]


def beat():
    """What beat does (the reaper, the delivery sweep), here twice a second."""
    if time.monotonic() - _last[0] >= 0.5:
        _last[0] = time.monotonic()
        pipeline.runs_reap()
        deliveries.deliveries_sweep()


def test_a_worker_writes_one_csv_per_interval_with_every_applied_result_once(tenant, team, worker, tmp_path,
                                                                            settings):
    settings.DELIVERY_DISPATCH_SECONDS = 2
    folder = tmp_path / "erp-import"
    folder.mkdir()
    use_case = live_use_case(tenant, team)
    use_case.it_contact = team["it_operator"]
    use_case.save(update_fields=["it_contact"])
    file_drop_connector(tenant, team, use_case, folder, profile="de", batch="interval", interval=INTERVAL,
                        backoff=0.2, max_attempts=8, columns=[{"header": "Lieferung", "value": "delivery_id"},
                                                              {"header": "Vorgang", "value": "id"},
                                                              {"header": "Belegart", "value": "document_class"}])
    worker.env |= {"DELIVERY_DISPATCH_SECONDS": "2"}
    items = [intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                                     payload={"text": f"Lieferschein Nr. {n:04d}"})[0] for n in range(ITEMS)]
    started = time.monotonic()
    worker.start()

    def all_delivered():
        return (not WorkItem.objects.filter(pk__in=[i.pk for i in items]).exclude(status=ItemStatus.APPLIED).exists()
                and Delivery.objects.filter(item__in=items, status=DeliveryStatus.DELIVERED).count() == ITEMS)

    wait_until(all_delivered, timeout=120, interval=0.25, tick=beat,
               what=lambda: f"every result in a file; {list(Delivery.objects.values_list('status', 'last_error'))}")
    elapsed = time.monotonic() - started

    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.startswith("erp-import_") and n.endswith(".csv") for n in names), names
    assert len(names) <= 1 + int(elapsed // INTERVAL) + 1  # one file per interval that had results, at most
    rows = []
    for name in names:
        raw = (folder / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
        assert table[0] == ["Lieferung", "Vorgang", "Belegart"]
        rows += table[1:]
    by_delivery = {d.webhook_id: d for d in Delivery.objects.filter(item__in=items)}
    assert sorted(r[0] for r in rows) == sorted(by_delivery)  # each result in exactly one file
    assert all(r[1] == str(by_delivery[r[0]].item_id) and r[2] == "delivery_note" for r in rows)
    assert all(d.receipts.filter(ok=True).count() == 1 for d in by_delivery.values())
    assert_audit_chain_intact(tenant)
    print(f"\n{ITEMS} results in {len(names)} file(s) after {elapsed:.1f} s")
