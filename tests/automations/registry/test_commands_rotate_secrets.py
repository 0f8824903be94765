"""`manage.py rotate_secrets`: every stored credential, processor API keys and connector credentials alike, is
re-encrypted under the newest field key, audited row by row; a run stopped midway is finished by the next one
with no secret lost; `--check` tells whether the older keys can be retired; a credential no configured key
decrypts is named, and kept as it is."""
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from audit.actors import SYSTEM
from audit.models import AuditEvent
from automations.choices import ChangeKind
from automations.connectors.models import ConnectorSecret
from automations.connectors.services.credentials import connector_secret, connector_secret_set
from automations.models import ProcessorSecret
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.services import changes, processors, stored_secrets
from portal import field_keys as secrets
from tests.automations.factories import approve_all, make_team

pytestmark = pytest.mark.django_db

PROCESSOR_KEY = "sk-rotate-0123456789abcdef"
WEBHOOK_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
MAILBOX_PASSWORD = "Postfach-Passwort-42"


def _entry(tenant, team, key, fields) -> CatalogueEntry:
    cr = changes.change_request_create(actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title=key, description="catalogue", payload={"key": key, "fields": fields})
    approve_all(cr, team)
    return CatalogueEntry.objects.get(tenant=tenant, key=key)


@pytest.fixture
def stored(tenant, member, settings):
    """A processor key and two connector credentials, stored under the old key."""
    team = make_team(member)
    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    llm = _entry(tenant, team, "eu-llm", {"kind": "processor", "name": "EU LLM", "endpoint": "http://127.0.0.1:9/v1"})
    erp = _entry(tenant, team, "erp", {"kind": "connector", "connector_type": "webhook", "direction": "delivery",
                                       "name": "ERP", "endpoint": "http://127.0.0.1:9/hooks"})
    mail = _entry(tenant, team, "postfach", {"kind": "connector", "connector_type": "imap", "direction": "intake",
                                             "name": "Postfach", "endpoint": "imap://rechnung@127.0.0.1:9/INBOX"})
    processors.processor_secret_set(actor=team["it_operator"], entry=llm, api_key=PROCESSOR_KEY)
    connector_secret_set(actor=team["it_operator"], entry=erp, secret=WEBHOOK_SECRET)
    connector_secret_set(actor=team["it_operator"], entry=mail, secret=MAILBOX_PASSWORD)
    return {"old": old, "new": Fernet.generate_key().decode(), "llm": llm, "erp": erp, "mail": mail}


def _run(*args) -> str:
    out = io.StringIO()
    call_command("rotate_secrets", *args, stdout=out)
    return out.getvalue()


def _ciphertexts() -> list[str]:
    return (list(ProcessorSecret.objects.order_by("pk").values_list("ciphertext", flat=True))
            + list(ConnectorSecret.objects.order_by("pk").values_list("ciphertext", flat=True)))


def _all_readable(stored) -> bool:
    return (processors.processor_api_key(entry=stored["llm"]) == PROCESSOR_KEY
            and connector_secret(entry=stored["erp"]) == WEBHOOK_SECRET
            and connector_secret(entry=stored["mail"]) == MAILBOX_PASSWORD)


def test_every_credential_is_re_encrypted_under_the_newest_key_and_the_old_key_can_then_be_retired(stored, settings):
    settings.FIELD_ENCRYPTION_KEYS = [stored["new"], stored["old"]]  # the new key first: it encrypts
    with pytest.raises(CommandError, match="3 stored credential"):
        _run("--check")
    before = _ciphertexts()

    out = _run()

    assert "processor API keys: 1 re-encrypted, 0 already under the newest key" in out
    assert "connector credentials: 2 re-encrypted, 0 already under the newest key" in out
    assert "the other 1 key(s) of LEITPLANKE_FIELD_KEYS can now be removed" in out
    after = _ciphertexts()
    assert all(a != b for a, b in zip(after, before, strict=True)) and all(secrets.is_current(c) for c in after)
    events = AuditEvent.objects.filter(event_type__in=("processor_secret.rotated", "connector_secret.rotated"))
    key_id = secrets.fingerprint(stored["new"])
    assert sorted((e.event_type, e.details.get("processor") or e.details["connector"], e.details["key"])
                  for e in events) == [("connector_secret.rotated", "erp", key_id),
                                       ("connector_secret.rotated", "postfach", key_id),
                                       ("processor_secret.rotated", "eu-llm", key_id)]
    assert key_id in out
    assert "Every stored credential" in _run("--check")

    settings.FIELD_ENCRYPTION_KEYS = [stored["new"]]  # the old key retired
    assert _all_readable(stored)
    # A second run finds nothing to do, and audits nothing.
    assert "0 re-encrypted, 2 already under the newest key" in _run()
    assert AuditEvent.objects.filter(event_type__endswith="_secret.rotated").count() == 3


def test_a_run_stopped_midway_is_finished_by_the_next_with_no_secret_lost(stored, settings):
    settings.FIELD_ENCRYPTION_KEYS = [stored["new"], stored["old"]]

    class Crash(BaseException):
        """The process dying (or the operator's Ctrl-C) right after the first row."""

    def crash_after_the_first(kind, outcome):
        raise Crash

    with pytest.raises(Crash):
        stored_secrets.stored_secrets_rotate(actor=SYSTEM, on_row=crash_after_the_first)
    assert sum(secrets.is_current(c) for c in _ciphertexts()) == 1  # committed row by row
    assert _all_readable(stored)  # old and new keys both configured: every secret still readable

    out = _run()
    assert "processor API keys: 1 re-encrypted, 0 already under the newest key" in out
    assert "connector credentials: 1 re-encrypted, 1 already under the newest key" in out
    settings.FIELD_ENCRYPTION_KEYS = [stored["new"]]
    assert _all_readable(stored)


def test_a_credential_no_configured_key_decrypts_is_named_and_kept(stored, settings):
    settings.FIELD_ENCRYPTION_KEYS = [stored["new"]]  # the old key removed too early
    before = _ciphertexts()
    with pytest.raises(CommandError, match="cannot be decrypted") as failure:
        _run()
    assert "erp" in str(failure.value) and "postfach" in str(failure.value) and "eu-llm" in str(failure.value)
    assert _ciphertexts() == before  # nothing overwritten: with the old key back, a run finishes the job
    settings.FIELD_ENCRYPTION_KEYS = [stored["new"], stored["old"]]
    _run()
    settings.FIELD_ENCRYPTION_KEYS = [stored["new"]]
    assert _all_readable(stored)
