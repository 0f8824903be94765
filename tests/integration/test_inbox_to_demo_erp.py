"""Tried as a new user would (issue 14): `manage.py quickstart` with no flag serves the portal with its worker
and beat, here on a real Redis broker, and wires the demo use cases' deliveries to Demo-ERP by default. A demo
invoice PDF dropped into the inbox folder of `eingangsrechnungen` (DESIGN, "Connectors":
var/inbox/<tenant>/<use case>/) is picked up by beat's folder poll, read and applied by the worker, and
delivered to Demo-ERP inside the portal, which verifies its Standard Webhooks signature and books it once.
Everything is watched through the portal's own API and pages, as a user would."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.conf import settings

from demo import seed as demo
from tests.demo.test_quickstart import MANAGE, embedded_env, free_port, processes_with_var_dir
from tests.integration.conftest import REDIS_URL, wait_until

pytestmark = pytest.mark.integration

USE_CASE = "eingangsrechnungen"
DEMO_PDF = "demo-01-papierwerk-facturx.pdf"  # a ZUGFeRD invoice of a supplier in the demo master data


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if "TEST_REDIS_URL" in os.environ:
            raise
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def manage(env, *args) -> str:
    done = subprocess.run([sys.executable, MANAGE, *args], env=env, cwd=settings.BASE_DIR, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_pdf_dropped_into_the_inbox_folder_is_applied_and_booked_by_demo_erp_with_a_verified_signature(
        quickstart_var, tmp_path, redis_db):
    var_dir = quickstart_var  # set up by a first quickstart; this run serves it on Redis
    env = embedded_env(var_dir) | {"CELERY_BROKER_URL": REDIS_URL}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "quickstart.log"
    log = log_path.open("w")
    qs = subprocess.Popen([sys.executable, MANAGE, "quickstart", "--port", str(port)],  # no flag: the default
                          env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        def serving():
            assert qs.poll() is None, log_path.read_text()[-3000:]
            try:
                return requests.get(f"{base}/login/", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(serving, timeout=300, interval=0.5, what="quickstart to serve")
        output = log_path.read_text()
        inbox = var_dir / "inbox" / "muster" / USE_CASE
        assert f"Inbox: drop files into {inbox}" in output and "Broker:   redis" in output
        assert f"Results of the demo use cases go to Demo-ERP ({base}/demo/erp/hooks/)" in output

        token = manage(env, "create_api_token", "it_operator", "--tenant", "muster").strip().splitlines()[-1]
        api = requests.Session()
        api.headers.update({"Authorization": f"Bearer {token}", "Accept-Language": "en"})

        # The newcomer drops a demo invoice into the inbox folder.
        dropped_at = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
        shutil.copyfile(var_dir / "demo" / USE_CASE / DEMO_PDF, inbox / DEMO_PDF)
        started = time.monotonic()

        def folder_item():  # among what changed since the drop (the demo history holds older folder items)
            response = api.get(f"{base}/api/v1/work-items/", params={"use_case": USE_CASE, "since": dropped_at},
                               timeout=30)
            assert response.status_code == 200, response.text
            return next((item for item in response.json()["results"]
                         if item["source"] == "folder" and item["external_id"] == DEMO_PDF), None)

        item = wait_until(folder_item, timeout=60, interval=1, what="the dropped file to become an item (60 s)")
        picked_up = time.monotonic() - started
        # The item is committed first, then the file moves: wait for the move rather than race it.
        wait_until(lambda: not (inbox / DEMO_PDF).exists(), timeout=30, interval=0.2, what="the file to move")
        assert [p.name for p in (inbox / "processed").glob("*/*")] == [DEMO_PDF]

        def shown():
            response = api.get(f"{base}/api/v1/work-items/{item['id']}/", timeout=30)
            assert response.status_code == 200, response.text
            return response.json()

        final = wait_until(lambda: shown() if shown()["status"] not in ("received", "processing") else None,
                           timeout=120, interval=1, what="the item to be processed")
        assert final["status"] == "applied", final
        assert final["fields"]["invoice_number"]["value"] == "PS-2025-0142"
        wait_until(lambda: [d["status"] for d in shown()["deliveries"]] == ["delivered"], timeout=90, interval=1,
                   what=lambda: f"the delivery to Demo-ERP (now {shown()['deliveries']})")
        applied = time.monotonic() - started

        deliveries = api.get(f"{base}/api/v1/deliveries/", params={"connector": "demo-erp"}, timeout=30)
        assert deliveries.status_code == 200, deliveries.text
        (delivery,) = [d for d in deliveries.json()["results"] if d["item"] == item["id"]]
        assert delivery["type"] == "work_item.applied" and delivery["receipts"][-1]["status_code"] == 200

        # Demo-ERP's page, as a signed-in user sees it: the delivery arrived, its signature verified, booked once.
        browser = requests.Session()
        browser.get(f"{base}/login/", timeout=30)
        login = browser.post(f"{base}/login/", timeout=30, allow_redirects=False, data={
            "username": "clerk", "password": demo.DEMO_PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"]}, headers={"Referer": f"{base}/login/"})
        assert login.status_code == 302, login.text[:500]
        page = browser.get(f"{base}/demo/erp/", timeout=30).text  # in German, as the portal speaks first
        row = re.search(rf'<tr data-webhook-id="{delivery["webhook_id"]}" data-verified="true">(.*?)</tr>', page, re.S)
        assert row is not None, page[-3000:]
        cells = row.group(1)
        assert item["id"] in cells and "<td>geprüft</td>" in cells and "<td>gebucht</td>" in cells, cells
        assert page.count(f'data-webhook-id="{delivery["webhook_id"]}"') == 1  # received once
        print(f"picked up after {picked_up:.1f} s, applied and booked by Demo-ERP after {applied:.1f} s")

        qs.send_signal(signal.SIGINT)
        assert qs.wait(timeout=60) == 0
    finally:
        if qs.poll() is None:
            qs.kill()
            qs.wait(timeout=30)
        log.close()
        for pid in processes_with_var_dir(var_dir):  # what this quickstart started, should it have failed
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert processes_with_var_dir(var_dir) == []
