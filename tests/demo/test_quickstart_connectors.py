"""`quickstart --webhook-url URL --webhook-secret whsec_…` seeds, approved as the demo users approve it, a
webhook delivery connector named by every demo use case; a later run with another URL moves it; every demo
use case gets its inbox folder under var/inbox/<tenant>/<use case>/ (DESIGN, "Connectors")."""
import json
import sqlite3

import pytest

from tests.automations.connectors.receiver import new_secret
from tests.demo.test_quickstart import embedded_env, quickstart

pytestmark = pytest.mark.integration

DEMO_USE_CASES = ["belegklassifizierung", "eingangsrechnungen", "service-tickets"]


def test_webhook_flags_seed_an_approved_connector_for_every_demo_use_case(tmp_path):
    var_dir = tmp_path / "var"
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
    (entry_id, endpoint, kind, ctype, direction, categories), = db.execute(
        "SELECT id, endpoint, kind, connector_type, direction, approved_categories FROM automations_catalogueentry "
        "WHERE connector_type = 'webhook'").fetchall()
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
                         "AND state = 'applied' AND payload LIKE '%webhook%'").fetchone()[0]
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
