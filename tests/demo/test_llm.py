"""The demo: service tickets get a reply suggestion only when a provider is configured in the catalogue;
without one the use case runs on its other engines and says so."""
import json

import pytest

from audit.models import AuditEvent
from audit.selectors.processing_records import processing_records
from automations.choices import ItemStatus
from automations.execution.services import intake
from automations.models import CatalogueEntry, PromptTemplateVersion
from automations.registry.selectors import describe_reply_setup
from automations.registry.services import use_cases, versions
from demo import llm as llm_demo
from demo.llm import DISCLAIMER, demo_processor_ensure, llm_release_parts

# The fixtures of the language model tests this moved from (English messages, eager tasks, a scripted
# provider, the demo team).
from tests.automations.conftest import english  # noqa: F401
from tests.automations.engines.llm.conftest import eager_celery, llm_server  # noqa: F401
from tests.automations.engines.llm.server import Reply
from tests.automations.factories import put_live

pytestmark = pytest.mark.django_db

QUEUE_RULES = [{"category": "technik", "name": "Störung", "keywords": ["störung", "defekt"], "weight": 2}]
TICKET = {"subject": "Drucker defekt", "body": "Seit heute Störung am Drucker, bitte um Hilfe.",
          "sender_email": "anna@kunde.example", "customer_number": "K-10001"}


def ticket_use_case(tenant, lead):
    """Shaped like the demo's service-tickets: sender and customer number never go to a model."""
    return use_cases.use_case_create(
        actor=lead, tenant=tenant, key="service-tickets", title="Service-Tickets", purpose="Tickets zuordnen.",
        input_fields=[{"name": "subject", "type": "text", "required": True},
                      {"name": "body", "type": "long_text", "required": True},
                      {"name": "sender_email", "type": "email", "personal_data": True, "category": "contact",
                       "send_to_model": False},
                      {"name": "customer_number", "type": "text", "personal_data": True,
                       "category": "customer_history", "send_to_model": False}],
        output_fields=[{"name": "queue", "type": "category", "required": True, "choices": ["technik", "rechnung"]},
                       {"name": "reply", "type": "long_text", "required": False}],
        data_subjects=["Kunden"], legal_basis="art6_1_b", manual_fallback="Von Hand zuordnen.")


def go_live(use_case, team, parts):
    lead = team["automation_lead"]
    threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="threshold_set",
        content={"thresholds": {"queue": {"auto": 0.5, "reject": 0.1}}}))
    configs = [{"engine": "rules", "fields": ["queue"],
                "parameters": {"field": "queue", "rules": QUEUE_RULES, "text_fields": ["subject", "body"]}}]
    if parts:
        configs.append(parts["engine_config"])
    configs = [versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=use_case, kind="engine_config", content=c)) for c in configs]
    release = versions.release_create(actor=lead, use_case=use_case, threshold_set=threshold, engine_configs=configs,
                                      prompt_template=parts and parts["prompt_template"],
                                      guardrail_set=parts and parts["guardrail_set"])
    put_live(use_case, team, release, description="Demo")


def send(run_on_commit, team, tenant, payload=TICKET):
    item, _created = run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant,
                                   use_case_key="service-tickets", payload=dict(payload))
    item.refresh_from_db()
    return item


def test_without_a_provider_the_use_case_runs_without_replies_and_says_so(tenant, team, run_on_commit):
    setup = describe_reply_setup(tenant)
    assert not setup.configured and "No language model provider is configured" in setup.message
    use_case = ticket_use_case(tenant, team["automation_lead"])
    assert llm_release_parts(use_case, team["automation_lead"]) is None
    assert not PromptTemplateVersion.objects.exists()
    go_live(use_case, team, None)
    item = send(run_on_commit, team, tenant)
    assert item.status == ItemStatus.APPLIED and item.fields["queue"]["value"] == "technik"
    assert "reply" not in item.fields


def test_with_a_provider_tickets_get_a_reply_suggestion_that_a_person_reviews(
        tenant, team, llm_server, run_on_commit):
    entry = demo_processor_ensure(tenant, team, base_url=llm_server.base_url, model="demo-model",
                                  api_key="sk-demo-4f9a8b7c6d5e", location="Nürnberg")
    assert demo_processor_ensure(tenant, team, base_url="http://other", model="x") == entry  # idempotent
    setup = describe_reply_setup(tenant)
    assert setup.configured and setup.processor == entry and "demo-model" in setup.message
    use_case = ticket_use_case(tenant, team["automation_lead"])
    parts = llm_release_parts(use_case, team["automation_lead"])
    assert parts["prompt_template"].is_frozen and parts["guardrail_set"].is_frozen
    assert list(use_case.catalogue_entries.all()) == [entry]
    go_live(use_case, team, parts)
    reply = f"Guten Tag, wir sehen uns die Störung an und melden uns. {DISCLAIMER} und wird vor dem Versand geprüft."
    llm_server.then(Reply(content=json.dumps({"reply": reply}, ensure_ascii=False), logprobs=[-0.05] * 5))
    item = send(run_on_commit, team, tenant)
    assert item.fields["queue"]["value"] == "technik"
    assert item.fields["reply"]["value"] == reply and item.fields["reply"]["reasons"] == []
    assert item.status == ItemStatus.REVIEW  # replies have no threshold: never applied automatically
    # The last request is the item's (going live evaluated the release first, which asked the provider too).
    body = llm_server.bodies[-1]
    assert body["model"] == "demo-model" and body["logprobs"] is True
    sent = llm_server.requests[-1].raw.decode()
    assert "Drucker defekt" in sent and "anna@kunde.example" not in sent and "K-10001" not in sent
    assert llm_server.requests[-1].headers["Authorization"] == "Bearer sk-demo-4f9a8b7c6d5e"


def test_the_demo_guardrails_stop_binding_promises(tenant, team, llm_server, run_on_commit):
    demo_processor_ensure(tenant, team, base_url=llm_server.base_url, model="demo-model")
    use_case = ticket_use_case(tenant, team["automation_lead"])
    go_live(use_case, team, llm_release_parts(use_case, team["automation_lead"]))
    llm_server.then(Reply(content=json.dumps({"reply": "Wir erstatten Ihnen den Kaufpreis."})))
    item = send(run_on_commit, team, tenant)
    reasons = item.fields["reply"]["reasons"]
    assert "reply: Guardrail: forbidden phrase “wir erstatten”" in reasons
    assert any("required disclaimer missing" in r for r in reasons)
    assert item.status == ItemStatus.REVIEW



def test_the_quick_start_seeds_its_processor_documented_and_named_by_the_service_tickets(tenant, team, english):
    """The catalogue documents the demo's language model provider as the records of processing need it (vendor,
    location, transfer basis, data processing agreement, approved categories), approved by the ISB and the DSB;
    the running service tickets name it; running the seed again changes nothing. The use case's page does not
    claim reply suggestions from a provider its release never calls."""
    use_case = ticket_use_case(tenant, team["automation_lead"])
    go_live(use_case, team, None)
    llm_demo.seed(tenant, team)
    entry = CatalogueEntry.objects.for_tenant(tenant).get(key="demo-llm")
    assert (entry.kind, entry.vendor, entry.location, entry.transfer_basis) == (
        "processor", "Demo-KI GmbH (fiktiv)", "Frankfurt am Main, Deutschland", "eu_eea")
    assert "Art. 28" in entry.dpa_reference and entry.approved_categories == ["contact"]
    approved = AuditEvent.objects.filter(tenant=tenant, event_type="change_request.approved")
    assert {e.details.get("role") for e in approved} >= {"security_officer", "data_protection_officer"}
    assert [e.key for e in use_case.catalogue_entries.all()] == ["demo-llm"]

    events = AuditEvent.objects.count()
    llm_demo.seed(tenant, team)
    assert AuditEvent.objects.count() == events
    assert CatalogueEntry.objects.for_tenant(tenant).filter(kind="processor").count() == 1

    # The records of processing name it with its agreement; nothing of (d) or (e) is missing.
    record = next(r for r in processing_records(tenant=tenant).records if r.key == "service-tickets")
    assert record.processors == [("Sprachmodell (Demo) (Demo-KI GmbH (fiktiv), data processing agreement: "
                                 f"{entry.dpa_reference})")]
    assert not [m for m in record.missing if m.startswith(("(d)", "(e)"))]

    setup = describe_reply_setup(tenant, use_case=use_case)
    assert not setup.configured and setup.processor == entry
    assert "does not use a language model: replies are written by people" in setup.message
    assert describe_reply_setup(tenant).configured  # the tenant has a provider all the same
