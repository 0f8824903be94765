"""Processor API keys: encrypted at rest with the configured Fernet keys (rotation included), set by IT
only, audited by fingerprint, and found in plain text in no log line and no database column."""
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection

from audit.actors import SYSTEM
from audit.models import AuditEvent
from automations.models import ProcessorSecret
from automations.registry.services import processors
from portal import field_keys as secrets
from tests.automations.engines.llm.conftest import API_KEY, TICKET, make_llm_use_case, make_processor
from tests.automations.engines.llm.server import Reply

pytestmark = pytest.mark.django_db


def test_the_key_is_stored_encrypted_and_audited_by_fingerprint_only(tenant, team, llm_server):
    entry = make_processor(tenant, team, llm_server.base_url)
    secret = ProcessorSecret.objects.get(entry=entry)
    assert API_KEY not in secret.ciphertext
    assert secrets.decrypt(secret.ciphertext) == API_KEY
    assert secret.key_fingerprint == secrets.fingerprint(API_KEY) and secret.set_by == team["it_operator"]
    event = AuditEvent.objects.get(event_type="processor_secret.set")
    assert event.details == {"processor": "eu-llm", "fingerprint": secret.key_fingerprint, "replaced": False}


def test_setting_a_new_key_replaces_the_old_one(tenant, team, llm_server):
    entry = make_processor(tenant, team, llm_server.base_url)
    processors.processor_secret_set(actor=team["security_officer"], entry=entry, api_key="sk-new-key-123456")
    assert processors.processor_api_key(entry=entry) == "sk-new-key-123456"
    assert ProcessorSecret.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="processor_secret.set").last().details["replaced"] is True
    processors.processor_secret_clear(actor=team["it_operator"], entry=entry)
    assert processors.processor_api_key(entry=entry) is None


@pytest.mark.parametrize("role", ["clerk", "automation_lead", "department_owner", "works_council"])
def test_only_it_and_the_security_officer_set_keys(tenant, team, llm_server, role):
    entry = make_processor(tenant, team, llm_server.base_url, api_key=None)
    with pytest.raises(PermissionDenied):
        processors.processor_secret_set(actor=team[role], entry=entry, api_key="sk-xyz")
    assert not ProcessorSecret.objects.exists()


def test_a_key_with_spaces_or_for_a_connector_is_refused(tenant, team, llm_server):
    entry = make_processor(tenant, team, llm_server.base_url, api_key=None)
    with pytest.raises(ValidationError):
        processors.processor_secret_set(actor=team["it_operator"], entry=entry, api_key="sk abc")
    entry.kind = "connector"
    with pytest.raises(ValidationError):
        processors.processor_secret_set(actor=team["it_operator"], entry=entry, api_key="sk-abc")


def test_key_rotation_with_several_field_keys(tenant, team, llm_server, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    entry = make_processor(tenant, team, llm_server.base_url)
    before = ProcessorSecret.objects.get(entry=entry).ciphertext
    settings.FIELD_ENCRYPTION_KEYS = [new, old]  # new key first: it encrypts, both decrypt
    assert processors.processor_api_key(entry=entry) == API_KEY
    assert processors.processor_secrets_rotate(actor=SYSTEM) == 1
    after = ProcessorSecret.objects.get(entry=entry).ciphertext
    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key removed after rotating
    assert processors.processor_api_key(entry=entry) == API_KEY
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(secrets.SecretUnreadable):
        processors.processor_api_key(entry=entry)


def test_production_needs_field_keys_to_store_a_key(tenant, team, llm_server, settings):
    entry = make_processor(tenant, team, llm_server.base_url, api_key=None)
    settings.PRODUCTION, settings.FIELD_ENCRYPTION_KEYS = True, []
    with pytest.raises(ImproperlyConfigured, match="LEITPLANKE_FIELD_KEYS"):
        processors.processor_secret_set(actor=team["it_operator"], entry=entry, api_key="sk-abc")
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="key 1 is not a valid Fernet key") as failure:
        processors.processor_secret_set(actor=team["it_operator"], entry=entry, api_key="sk-abc")
    assert "not-a-fernet-key" not in str(failure.value)


def _every_text_in_the_database() -> str:
    """Every value of every row of every table (history and audit tables included), as text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                parts.extend(str(value) for value in row if value is not None)
    return "\n".join(parts)


def test_the_key_is_found_in_no_log_and_no_database_column(tenant, team, llm_server, submit, caplog, settings):
    settings.RUN_MAX_ATTEMPTS = 1
    caplog.set_level(logging.DEBUG)
    entry = make_processor(tenant, team, llm_server.base_url, circuit_failures=2, max_retries=1)
    use_case = make_llm_use_case(tenant, team, entry, store_masked_prompts=True)
    submit()  # a success
    llm_server.then(Reply(status=429, headers={"Retry-After": "0"}), Reply(status=401, error="bad key"))
    submit({**TICKET, "subject": "zwei"})  # retried, then refused by the provider
    llm_server.default.status = 500
    submit({**TICKET, "subject": "drei"})  # retried, fails, opens the circuit
    submit({**TICKET, "subject": "vier"})  # circuit open
    from datetime import timedelta

    from django.utils import timezone

    from automations.execution.services.llm_calls import generate
    from automations.models import ProcessorCircuit, PromptTemplateVersion

    assert ProcessorCircuit.objects.get(entry=entry).state == "open"
    ProcessorCircuit.objects.update(opened_at=timezone.now() - timedelta(hours=1))
    llm_server.default.status = 200  # the trial call after the cool-down succeeds
    generate(use_case=use_case, version=PromptTemplateVersion.objects.get(use_case=use_case), payload=TICKET)
    assert any(r.headers.get("Authorization") == f"Bearer {API_KEY}" for r in llm_server.requests)
    assert "retrying" in caplog.text  # the client did log
    assert API_KEY not in caplog.text
    everything = _every_text_in_the_database()
    assert "processor_secret.set" in everything and "eu-llm" in everything  # the dump does see the rows
    assert API_KEY not in everything
    assert API_KEY[8:20] not in everything
