"""A processor in the catalogue (added through an approved change request, its key set by IT), a use case
whose production release asks it for a reply, and the scripted provider it talks to over loopback."""
import pytest

from automations.choices import ChangeKind
from automations.execution.services import intake
from automations.models import CatalogueEntry
from automations.registry.services import changes, processors, use_cases, versions
from tests.automations.engines.llm.openai_schema import request_problems
from tests.automations.engines.llm.server import ScriptedLlmServer
from tests.automations.factories import approve_all, put_live

API_KEY = "sk-test-Zq8Lr2Vn5Xw1Kp7Tg4Hb9Md3"
MODEL = "leitplanke-test-model"
REPLY_SCHEMA = {"type": "object", "properties": {"reply": {"type": "string", "minLength": 1}},
                "required": ["reply"], "additionalProperties": False}
TICKET_INPUTS = [
    {"name": "subject", "type": "text", "required": True},
    {"name": "body", "type": "long_text", "required": True},
    {"name": "sender_email", "type": "email", "personal_data": True, "category": "contact"},
    {"name": "customer_number", "type": "text", "personal_data": True, "category": "customer_history"},
    {"name": "internal_note", "type": "long_text"},
]
TICKET_OUTPUTS = [{"name": "reply", "type": "long_text", "required": False}]
CLEAN_REPLY = '{"reply": "Guten Tag, wir kümmern uns um Ihr Anliegen. (KI-generiert)"}'
GUARDRAILS = {"forbidden_phrases": ["garantieren", "rechtsverbindlich", "wir erstatten"],
              "forbidden_patterns": [r"\b100\s?%\s+sicher\b"],
              "personal_data_patterns": ["email", "iban", "phone"],
              "required_disclaimers": ["KI-generiert"], "max_length": 200}


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py)."""


_SERVERS: list = []  # the scripted servers of the running test


@pytest.fixture
def llm_server():
    """The scripted provider. Every request any test makes must be a valid chat-completions request of
    the official schema."""
    server = ScriptedLlmServer().start()
    server.default.content = CLEAN_REPLY
    _SERVERS.append(server)
    yield server
    _SERVERS.remove(server)
    server.stop()
    for received in server.requests:
        assert received.body is not None, "the request body is not JSON"
        assert request_problems(received.body) == [], received.body


def make_processor(tenant, team, base_url, *, key="eu-llm", categories=(), api_key=API_KEY, **settings):
    """A processor entry, approved like any catalogue change (automation lead, security officer, and the
    data protection officer when it is approved for personal data categories); IT stores its key."""
    values = {"model": MODEL, "timeout": 2, "max_retries": 2, "backoff": 0.01, "max_retry_wait": 3,
              "circuit_failures": 3, "circuit_cooldown": 60}
    values.update(settings)
    fields = {"kind": "processor", "name": f"LLM {key}", "vendor": "Test GmbH", "method": "openai-compatible",
              "endpoint": base_url, "location": "Frankfurt", "transfer_basis": "eu_eea",
              "dpa_reference": "AVV-2025-01", "approved_categories": list(categories), "settings": values}
    existing = CatalogueEntry.objects.for_tenant(tenant).filter(key=key).first()
    if existing is not None:
        fields = {"approved_categories": list(categories), "settings": values, "endpoint": base_url}
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title=f"Processor {key}", description="Approved LLM provider",
                                       payload={"key": key, "fields": fields})
    approve_all(cr, team)
    entry = CatalogueEntry.objects.for_tenant(tenant).get(key=key)
    if api_key:
        processors.processor_secret_set(actor=team["it_operator"], entry=entry, api_key=api_key)
    return entry


def prompt_content(processor_key="eu-llm", **overrides):
    content = {"template": "Betreff: {{ subject }}\n\n{{ body }}",
               "system_prompt": "Du schreibst höfliche Antwortvorschläge für den Kundenservice.",
               "declared_fields": ["subject", "body"], "processor_key": processor_key, "model_name": MODEL,
               "parameters": {"temperature": 0.2, "max_tokens": 300}, "output_schema": REPLY_SCHEMA,
               "confidence_mode": "fixed", "fixed_confidence": 0.9, "output_field": "reply"}
    content.update(overrides)
    return content


def make_llm_use_case(tenant, team, entry, *, key="tickets", status="production", prompt=None, guardrails=None,
                      thresholds=None, store_masked_prompts=False, link_processor=True):
    """A ticket use case whose `status` release asks the processor for a reply."""
    lead = team["automation_lead"]
    use_case = use_cases.use_case_create(
        actor=lead, tenant=tenant, key=key, title="Tickets", purpose="Antwortvorschläge für Tickets.",
        input_fields=TICKET_INPUTS, output_fields=TICKET_OUTPUTS, data_subjects=["Kunden"],
        legal_basis="art6_1_b", escalation_contact=team["department_owner"],
        manual_fallback="Ticket von Hand beantworten.", store_masked_prompts=store_masked_prompts,
        catalogue_entries=[entry] if (entry is not None and link_processor) else [])

    def submitted(kind, content):
        return versions.version_submit(actor=lead, version=versions.version_create(
            actor=lead, use_case=use_case, kind=kind, content=content))

    prompt_version = submitted("prompt_template", prompt or prompt_content(entry.key if entry else "eu-llm"))
    guardrail_version = submitted("guardrail_set", guardrails if guardrails is not None else GUARDRAILS)
    threshold = submitted("threshold_set", {"thresholds": thresholds or {"reply": {"auto": 0.5, "reject": 0.1}}})
    config = submitted("engine_config", {"engine": "llm", "fields": ["reply"], "parameters": {}})
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=[config],
                                      prompt_template=prompt_version, guardrail_set=guardrail_version)
    use_case = put_live(use_case, team, release, status=status)
    # Going live ran the release's evaluation, which asked the provider too: the requests a test inspects are
    # its own, made after this.
    for server in _SERVERS:
        server.requests.clear()
    return use_case


TICKET = {"subject": "Drucker defekt", "body": "Unser Drucker zeigt Fehler E42. Bitte um Rückruf.",
          "sender_email": "anna.schmidt@kunde.example", "customer_number": "K-10001",
          "internal_note": "VIP-Kunde, Vertrag läuft aus"}


@pytest.fixture
def submit(run_on_commit, team, tenant):
    def send(payload=None, key="tickets"):
        item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                       use_case_key=key, payload=dict(payload or TICKET))
        item.refresh_from_db()
        return item

    return send
