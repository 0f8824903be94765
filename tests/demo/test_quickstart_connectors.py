"""`quickstart --webhook-url URL --webhook-secret whsec_…` seeds, approved as the demo users approve it, a
webhook delivery connector named by every demo use case; a later run with another URL moves it; every demo
use case gets its inbox folder under var/inbox/<tenant>/<use case>/ (DESIGN, "Connectors"). Without the flag,
every demo use case delivers to Demo-ERP inside the portal, on the port quickstart serves; the flag's receiver
takes Demo-ERP's place, so that each result is delivered once."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from tests.automations.connectors.receiver import new_secret
from tests.demo.test_quickstart import (
    MANAGE,
    embedded_env,
    free_port,
    http_status,
    login_page_answers,
    processes_with_var_dir,
    quickstart,
    wait_for,
)

pytestmark = pytest.mark.integration

DEMO_USE_CASES = ["belegklassifizierung", "eingangsrechnungen", "service-tickets"]


def test_webhook_flags_seed_an_approved_connector_for_every_demo_use_case(quickstart_var):
    var_dir = quickstart_var
    env = embedded_env(var_dir)
    secret = new_secret()
    first = quickstart(env, "--no-serve", "--webhook-url", "http://127.0.0.1:9/erp-a", "--webhook-secret", secret,
                       "--imap-url", "imap://rechnung:Postfach-Geheim-1@127.0.0.1:1143/INBOX")
    assert first.returncode == 0, first.stderr
    for key in DEMO_USE_CASES:
        assert (var_dir / "inbox" / "muster" / key).is_dir()
    assert "inbox/muster/eingangsrechnungen" in first.stdout

    bad = quickstart(env, "--no-serve", "--webhook-url", "http://127.0.0.1:9/x", "--webhook-secret", "geheim")
    assert bad.returncode != 0 and "whsec_" in bad.stderr

    second = quickstart(env, "--no-serve", "--webhook-url", "http://127.0.0.1:9/erp-b", "--webhook-secret", secret)
    assert second.returncode == 0, second.stderr
    db = sqlite3.connect(var_dir / "leitplanke.sqlite3")
    assert _named(db, "demo-erp") == []  # the flag's receiver instead of Demo-ERP: each result delivered once
    (entry_id, endpoint, kind, ctype, direction, categories), = db.execute(
        "SELECT id, endpoint, kind, connector_type, direction, approved_categories FROM automations_catalogueentry "
        "WHERE connector_type = 'webhook' AND key = 'quickstart-webhook'").fetchall()
    assert (endpoint, kind, ctype, direction) == ("http://127.0.0.1:9/erp-b", "connector", "webhook", "delivery")
    assert "bank" in json.loads(categories)  # the invoices carry the supplier's IBAN
    named = [row[0] for row in db.execute(
        "SELECT u.key FROM automations_usecase u JOIN automations_usecase_catalogue_entries m "
        "ON m.usecase_id = u.id WHERE m.catalogueentry_id = ? ORDER BY u.key", (entry_id,))]
    assert named == DEMO_USE_CASES
    (ciphertext,), = db.execute("SELECT ciphertext FROM automations_connectorsecret WHERE entry_id = ?",
                                (entry_id,)).fetchall()
    assert secret not in ciphertext
    # Added and moved through change requests that the security officer approved.
    applied = db.execute("SELECT COUNT(*) FROM automations_changerequest WHERE kind = 'catalogue' "
                         "AND state = 'applied' AND payload LIKE '%quickstart-webhook%'").fetchone()[0]
    assert applied == 2
    roles = {row[0] for row in db.execute(
        "SELECT a.role FROM automations_approval a JOIN automations_changerequest c ON a.change_request_id = c.id "
        "WHERE c.kind = 'catalogue'")}
    assert "security_officer" in roles
    # --imap-url: an IMAP intake connector for the invoices, its password encrypted, never in the target.
    (imap_id, imap_endpoint, imap_settings), = db.execute(
        "SELECT id, endpoint, settings FROM automations_catalogueentry WHERE connector_type = 'imap' "
        "AND direction = 'intake'").fetchall()
    assert imap_endpoint == "imap://rechnung@127.0.0.1:1143/INBOX"
    assert json.loads(imap_settings)["processed_folder"] == "Verarbeitet"
    assert [row[0] for row in db.execute(
        "SELECT u.key FROM automations_usecase u JOIN automations_usecase_catalogue_entries m "
        "ON m.usecase_id = u.id WHERE m.catalogueentry_id = ?", (imap_id,))] == ["eingangsrechnungen"]
    dump = "\n".join(db.iterdump())
    assert "Postfach-Geheim-1" not in dump


def _named(db, key: str) -> list[str]:
    """The demo use cases that name the connector `key`."""
    return [row[0] for row in db.execute(
        "SELECT u.key FROM automations_usecase u JOIN automations_usecase_catalogue_entries m "
        "ON m.usecase_id = u.id JOIN automations_catalogueentry c ON c.id = m.catalogueentry_id "
        "WHERE c.key = ? ORDER BY u.key", (key,))]


def test_a_pdf_dropped_into_the_inbox_is_applied_and_arrives_in_demo_erp(quickstart_var, tmp_path):
    """As a new user tries it: `quickstart` with no flag, a demo invoice copied into the inbox folder; it
    becomes an item, is applied, and Demo-ERP receives it signed and verified, once."""
    var_dir = quickstart_var
    env = embedded_env(var_dir)
    port = free_port()
    log_path = tmp_path / "quickstart.log"
    with log_path.open("w") as log:
        qs = subprocess.Popen([sys.executable, MANAGE, "quickstart", "--port", str(port)], env=env,
                              cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: login_page_answers(qs, port), 300, "the login page")  # migrating and seeding first
            inbox = var_dir / "inbox" / "muster" / "eingangsrechnungen"
            sample = var_dir / "demo" / "eingangsrechnungen" / "demo-01-papierwerk-facturx.pdf"
            shutil.copy(sample, inbox / ".rechnung.pdf.part")  # written under a name the poller skips ...
            (inbox / ".rechnung.pdf.part").rename(inbox / "rechnung.pdf")  # ... then complete

            received = var_dir / "demo" / "erp" / "received.jsonl"

            def booked():
                if not received.exists():
                    return None
                rows = [json.loads(line) for line in received.read_text().splitlines() if line.strip()]
                return [r for r in rows if r["use_case"] == "eingangsrechnungen"] or None

            (row,) = wait_for(booked, 180, "Demo-ERP to receive the invoice")
            assert row["verified"] and row["first"] and row["type"] == "work_item.applied"
            assert row["status"] == "applied" and row["summary"]["buyer_name"] == "Muster GmbH"
            assert list((inbox / "processed").rglob("rechnung.pdf"))
            page = http_status(f"http://127.0.0.1:{port}/demo/erp/")  # the page exists (sign-in first)
            assert page in (200, 302)
            qs.send_signal(signal.SIGINT)
            assert qs.wait(timeout=30) == 0
        finally:
            if qs.poll() is None:
                qs.kill()
                qs.wait(timeout=30)
            for pid in processes_with_var_dir(var_dir):  # what this quickstart started, should it have failed
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    assert f"Results of the demo use cases go to Demo-ERP (http://127.0.0.1:{port}/demo/erp/hooks/)" in (
        log_path.read_text())
    db = sqlite3.connect(var_dir / "leitplanke.sqlite3")
    (endpoint,), = db.execute("SELECT endpoint FROM automations_catalogueentry WHERE key = 'demo-erp'").fetchall()
    assert endpoint == f"http://127.0.0.1:{port}/demo/erp/hooks/"  # on the port quickstart served
    assert _named(db, "demo-erp") == DEMO_USE_CASES
    # A later run naming a receiver of one's own moves the results there, and there only.
    later = quickstart(env, "--no-serve", "--webhook-url", "http://127.0.0.1:9/erp")
    assert later.returncode == 0, later.stderr
    assert _named(db, "demo-erp") == [] and _named(db, "quickstart-webhook") == DEMO_USE_CASES
    again = quickstart(env, "--no-serve")  # and a run without the flag leaves it so
    assert again.returncode == 0, again.stderr
    assert _named(db, "demo-erp") == [] and "Demo-ERP (" not in again.stdout
