"""The canary (issue 16): secrets planted as stored credentials — a processor's API key, a webhook connector's
signing secret, a mailbox's password — are used for real (a loopback language model server that sees the key,
a receiver that verifies every signature with the secret, Debian's dovecot that checks the password), fail
on purpose, are rotated under a new field key with `manage.py rotate_secrets`, and are then found in clear in
no log output, no page, no API answer and no `pg_dump` of the database."""
import base64
import io
import logging
import os
import secrets as random
import shutil
import subprocess
import tempfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from imap_tools import MailBoxUnencrypted
from reportlab.pdfgen import canvas

from automations.choices import DeliveryStatus
from automations.connectors.models import ConnectorSecret, Delivery
from automations.connectors.services import mailboxes
from automations.connectors.services.credentials import connector_secret, connector_secret_set
from automations.execution.services import intake
from automations.models import ProcessorSecret, WorkItem
from automations.registry.services import processors
from portal import field_keys as secrets
from portal.choices import TokenScope
from portal.services import api_token_create
from tests.automations.connectors.conftest import approve_connector, name_connectors, webhook_connector
from tests.automations.connectors.dovecot import Dovecot
from tests.automations.connectors.receiver import Receiver
from tests.automations.engines.llm.conftest import CLEAN_REPLY, TICKET, make_llm_use_case, make_processor
from tests.automations.engines.llm.server import Reply, ScriptedLlmServer
from tests.automations.factories import make_rules_use_case, make_team

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PROCESSOR_CANARY = "sk-canary-" + random.token_hex(12)
WEBHOOK_KEY = b"canary-webhook-" + random.token_hex(10).encode()
WEBHOOK_CANARY = "whsec_" + base64.b64encode(WEBHOOK_KEY).decode()
MAILBOX_CANARY = "Kanarienvogel-" + random.token_hex(8)
# Each canary in clear, and the part of the webhook secret that is the key itself.
CANARIES = [PROCESSOR_CANARY, WEBHOOK_CANARY, WEBHOOK_CANARY.removeprefix("whsec_"), MAILBOX_CANARY]


def _found(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


@pytest.fixture
def servers():
    llm = ScriptedLlmServer().start()
    llm.default.content = CLEAN_REPLY
    receiver = Receiver(WEBHOOK_CANARY)
    folder = Path(tempfile.mkdtemp(prefix="leitplanke-canary-"))
    folder.chmod(0o755)
    dovecot = Dovecot(folder / "dovecot", password=MAILBOX_CANARY)
    yield llm, receiver, dovecot
    dovecot.stop()
    shutil.rmtree(folder, ignore_errors=True)
    receiver.stop()
    llm.stop()


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def _mail(dovecot) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "buchhaltung@lieferant.example", "rechnung@x", "Rechnung"
    message["Message-ID"] = f"<{random.token_hex(6)}@lieferant.example>"
    message.set_content("Anbei die Rechnung.")
    message.add_attachment(_pdf("Rechnung Rechnungsnummer 77"), maintype="application", subtype="pdf",
                           filename="RE-77.pdf")
    with MailBoxUnencrypted("127.0.0.1", dovecot.port).login(dovecot.user, dovecot.password) as box:
        box.append(message.as_bytes(), "INBOX", dt=None, flag_set=[])


def _pg_dump() -> str:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    done = subprocess.run(["pg_dump", "--no-owner", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
                           "-U", db["USER"] or "postgres", db["NAME"]],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_canary_is_found_in_no_log_no_page_no_api_answer_and_no_database_dump(
        tenant, member, make_user, servers, eager_tasks, settings, tmp_path, caplog, capfd):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL")
    caplog.set_level(logging.DEBUG)
    settings.MEDIA_ROOT = tmp_path / "media"
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    llm, receiver, dovecot = servers
    settings.RUN_MAX_ATTEMPTS = 1
    team = make_team(member)
    admin = make_user("admin_canary")
    admin.is_superuser = admin.is_staff = True
    admin.save()

    # Planted and used: the processor's key reaches the language model server ...
    processor = make_processor(tenant, team, llm.base_url, api_key=PROCESSOR_CANARY, max_retries=0)
    make_llm_use_case(tenant, team, processor)
    intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="tickets", payload=TICKET)
    llm.then(Reply(status=401, error="invalid api key"))  # ... and is refused once
    intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="tickets",
                            payload={**TICKET, "subject": "zweites Ticket"})
    assert any(r.headers.get("Authorization") == f"Bearer {PROCESSOR_CANARY}" for r in llm.requests)

    # ... the webhook secret signs deliveries the receiver verifies (and one the receiver refuses) ...
    belege = make_rules_use_case(tenant, team, it_contact=team["it_operator"])
    webhook_connector(tenant, team, belege, receiver, max_attempts=1)
    intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                            payload={"text": "Rechnung Rechnungsnummer 1"})
    receiver.answer = 500
    intake.work_item_create(actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                            payload={"text": "Rechnung Rechnungsnummer 2"})
    receiver.answer = 200
    assert receiver.applied and all(r["sig_ok"] for r in receiver.requests)
    assert Delivery.objects.filter(status=DeliveryStatus.DEAD).count() == 1

    # ... and the mailbox password logs in to dovecot (and is refused once, with a wrong copy stored).
    mailbox = approve_connector(tenant, team, "postfach", {
        "kind": "connector", "connector_type": "imap", "direction": "intake", "name": "rechnung@",
        "endpoint": dovecot.url, "settings": {"per_attachment": True}})
    connector_secret_set(actor=team["it_operator"], entry=mailbox, secret=MAILBOX_CANARY)
    name_connectors(belege, team, ["postfach"])
    _mail(dovecot)
    assert mailboxes.mailboxes_poll().items == 1
    connector_secret_set(actor=team["it_operator"], entry=mailbox, secret=MAILBOX_CANARY + "-falsch")
    assert mailboxes.mailboxes_poll().items == 0  # the login fails and is logged
    connector_secret_set(actor=team["it_operator"], entry=mailbox, secret=MAILBOX_CANARY)

    # Rotated under a new key, the old one retired; everything still works.
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    rotation = io.StringIO()
    call_command("rotate_secrets", stdout=rotation)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert processors.processor_api_key(entry=processor) == PROCESSOR_CANARY
    assert connector_secret(entry=mailbox) == MAILBOX_CANARY
    assert all(secrets.is_current(c) for c in [*ProcessorSecret.objects.values_list("ciphertext", flat=True),
                                               *ConnectorSecret.objects.values_list("ciphertext", flat=True)])
    assert _found(rotation.getvalue()) == []

    # Pages, as IT, as the data protection officer and as a superuser in the Django admin.
    items = list(WorkItem.objects.filter(tenant=tenant))
    assert len(items) >= 5
    pages = [reverse("portal:home"), reverse("automations:catalogue"), reverse("automations:connectors"),
             reverse("work:item-list"), reverse("work:escalations"), reverse("automations:use-case-list"),
             reverse("automations:use-case-detail", args=["belege"]),
             reverse("automations:use-case-detail", args=["tickets"]),
             *[reverse("work:item-detail", args=[i.pk]) for i in items]]
    shown = []
    for user, urls in ((team["it_operator"], pages), (team["data_protection_officer"],
                                                       [reverse("audit:home"), reverse("audit:event-list")])):
        browser = Client()
        browser.force_login(user)
        for url in urls:
            response = browser.get(url)
            assert response.status_code == 200, (url, response.status_code)
            shown.append(response.content.decode())
    browser = Client()
    browser.force_login(admin)
    admin_pages = ["/admin/automations/connectorsecret/", "/admin/automations/processorsecret/",
                   "/admin/automations/catalogueentry/", "/admin/audit/auditevent/",
                   *[f"/admin/automations/connectorsecret/{pk}/change/"
                     for pk in ConnectorSecret.objects.values_list("pk", flat=True)],
                   *[f"/admin/automations/processorsecret/{pk}/change/"
                     for pk in ProcessorSecret.objects.values_list("pk", flat=True)]]
    for url in admin_pages:
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        shown.append(response.content.decode())
    assert "sha256:" in "".join(shown)  # the pages do name the credentials, by fingerprint
    assert _found("\n".join(shown)) == []

    # API answers, with IT's token and the data protection officer's.
    answers = []
    for user, scopes, paths in (
            (team["it_operator"], None, ["/api/v1/connectors/", "/api/v1/deliveries/", "/api/v1/catalogue/",
                                         "/api/v1/catalogue/eu-llm/", "/api/v1/catalogue/erp/",
                                         "/api/v1/catalogue/postfach/", "/api/v1/work-items/",
                                         *[f"/api/v1/work-items/{i.pk}/" for i in items],
                                         *[f"/api/v1/work-items/{i.pk}/deliveries/" for i in items]]),
            (team["data_protection_officer"], [TokenScope.READ, TokenScope.DATA_PROTECTION],
             ["/api/v1/audit/events/", "/api/v1/audit/access-events/"])):
        _token, plain = api_token_create(actor=user, tenant=tenant, user=user, name="canary",
                                         **({"scopes": scopes} if scopes else {}))
        for path in paths:
            response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {plain}")
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            answers.append(response.content.decode())
    assert "connector_secret.rotated" in "".join(answers)  # the audit trail was read
    assert _found("\n".join(answers)) == []

    # The database, dumped: the credentials are there (by fingerprint, encrypted), the canaries are not.
    dump = _pg_dump()
    assert "connector_secret.set" in dump and secrets.fingerprint(MAILBOX_CANARY) in dump
    assert _found(dump) == []

    # Every log line, and whatever reached standard output and error.
    out, err = capfd.readouterr()
    logged = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert "mailbox postfach could not be read" in logged.lower()  # the failures were logged
    assert _found(logged + out + err) == []
