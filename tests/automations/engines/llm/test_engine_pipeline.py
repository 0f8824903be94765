"""The llm engine inside the pipeline, against the scripted provider over real HTTP."""
import hashlib
import json
import math

import pytest

from automations.choices import ItemStatus, RunStatus
from automations.execution.services import runs
from automations.models import Escalation, LlmCall
from reviews.choices import QueueKind
from reviews.models import ReviewTask
from tests.automations.engines.llm.conftest import (
    API_KEY,
    CLEAN_REPLY,
    MODEL,
    TICKET,
    make_llm_use_case,
    make_processor,
    prompt_content,
)
from tests.automations.engines.llm.server import Reply

pytestmark = pytest.mark.django_db


def user_text(body: dict) -> str:
    return "\n".join(m["content"] for m in body["messages"])


def test_reply_suggestion_from_the_provider_is_applied_with_the_answer_as_explanation(
        tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry)
    item = submit()
    assert item.status == ItemStatus.APPLIED, item.reasons
    reply = item.fields["reply"]
    assert reply["value"] == "Guten Tag, wir kümmern uns um Ihr Anliegen. (KI-generiert)"
    assert reply["confidence"] == 0.9 and reply["engine"] == "llm"
    assert reply["explanation"] == CLEAN_REPLY
    request = llm_server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert body["model"] == MODEL and body["temperature"] == 0.2 and body["max_tokens"] == 300
    assert body["response_format"] == {"type": "json_object"}
    assert "logprobs" not in body
    call = LlmCall.objects.get(item=item)
    assert call.status == "ok" and call.prompt_tokens == 42 and call.completion_tokens == 17
    assert call.latency_ms >= 0 and call.attempts == 1 and call.processor_key == "eu-llm"


def test_only_declared_fields_reach_the_model(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry)
    submit()
    sent = user_text(llm_server.bodies[0])
    assert "Drucker defekt" in sent and "Fehler E42" in sent
    for undeclared in (TICKET["sender_email"], TICKET["customer_number"], TICKET["internal_note"], "VIP"):
        assert undeclared not in llm_server.requests[0].raw.decode()


def test_personal_data_field_for_a_processor_not_approved_for_its_category_is_refused_without_a_request(
        tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url, categories=["customer_history"])
    make_llm_use_case(tenant, team, entry, prompt=prompt_content(
        declared_fields=["subject", "body", "sender_email"],
        template="{{ subject }} von {{ sender_email }}: {{ body }}"))
    item = submit()
    assert llm_server.requests == []
    assert item.status == ItemStatus.CLARIFICATION
    assert any("sender_email is personal data (contact)" in r and "not approved" in r for r in item.reasons)
    assert ReviewTask.objects.filter(item=item, queue__kind=QueueKind.CLARIFICATION).exists()
    assert not LlmCall.objects.exists()


def test_personal_data_field_goes_out_when_the_processor_is_approved_for_its_category(
        tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url, categories=["contact"])
    make_llm_use_case(tenant, team, entry, prompt=prompt_content(
        declared_fields=["subject", "body", "sender_email"],
        template="{{ subject }} von {{ sender_email }}: {{ body }}"))
    item = submit()
    assert item.status == ItemStatus.APPLIED
    assert TICKET["sender_email"] in user_text(llm_server.bodies[0])


def test_processor_outside_the_active_catalogue_is_refused(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry, prompt=prompt_content(processor_key="unbekannt"))
    item = submit()
    assert item.status == ItemStatus.CLARIFICATION
    assert any("unbekannt is not an active processor" in r for r in item.reasons)
    # deactivated later through a catalogue change: refused from then on
    from automations.choices import ChangeKind
    from automations.registry.services import changes
    from tests.automations.factories import approve_all

    make_llm_use_case(tenant, team, entry, key="tickets-2")
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title="off", description="contract ended",
                                       payload={"key": entry.key, "fields": {"is_active": False}})
    approve_all(cr, team)
    item = submit({**TICKET, "subject": "Zweites Ticket"}, key="tickets-2")
    assert item.status == ItemStatus.CLARIFICATION
    assert any("eu-llm is not an active processor" in r for r in item.reasons)
    assert llm_server.requests == []


def test_processor_not_documented_for_the_use_case_is_refused(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry, link_processor=False)
    item = submit()
    assert item.status == ItemStatus.CLARIFICATION
    assert any("not documented for this use case" in r for r in item.reasons)
    assert llm_server.requests == []


MESSY = {"subject": "Rückruf", "body": "Bitte an max.mustermann@firma.example oder +49 711 1234567 melden; "
                                       "Erstattung auf DE89 3704 0044 0532 0130 00.",
         "sender_email": "x@y.example", "customer_number": "K-1", "internal_note": ""}


def test_contact_and_bank_data_in_free_text_are_masked_for_a_processor_not_approved_for_them(
        tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry)
    item = submit(MESSY)
    sent = llm_server.requests[0].raw.decode()
    for original in ("max.mustermann@firma.example", "+49 711 1234567", "DE89 3704 0044 0532 0130 00"):
        assert original not in sent
    text = user_text(llm_server.bodies[0])
    assert "[EMAIL]" in text and "[PHONE]" in text and "[IBAN]" in text
    extract = item.runs.get().steps.get(step="extract")
    assert extract.details["engines"][0]["meta"]["masked"] == {"email": 1, "phone": 1, "iban": 1}


def test_masking_follows_the_processors_approvals(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url, categories=["contact"])
    make_llm_use_case(tenant, team, entry)
    submit(MESSY)
    text = user_text(llm_server.bodies[0])
    assert "max.mustermann@firma.example" in text and "+49 711 1234567" in text
    assert "[IBAN]" in text and "DE89" not in text


def test_what_was_sent_is_kept_as_a_hash_and_masked_text_only_where_the_use_case_allows(
        tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url, categories=["contact"])
    make_llm_use_case(tenant, team, entry)
    make_llm_use_case(tenant, team, entry, key="tickets-kept", store_masked_prompts=True)
    not_kept = submit(MESSY)
    kept = submit({**MESSY, "subject": "Rückruf 2"}, key="tickets-kept")
    first, second = LlmCall.objects.get(item=not_kept), LlmCall.objects.get(item=kept)
    canonical = json.dumps(llm_server.bodies[0]["messages"], ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    assert first.prompt_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert first.prompt_masked == ""
    # Kept fully masked even though this processor may see contact data.
    assert "Rückruf 2" in second.prompt_masked and "[EMAIL]" in second.prompt_masked
    assert "max.mustermann" not in second.prompt_masked and "DE89" not in second.prompt_masked


def test_schema_violation_is_repaired_once_with_the_error_sent_back(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry)
    llm_server.then(Reply(content='{"antwort": "Hallo"}'), Reply(content=CLEAN_REPLY))
    item = submit()
    assert item.status == ItemStatus.APPLIED
    assert len(llm_server.requests) == 2
    repair = llm_server.bodies[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"antwort": "Hallo"}'}
    assert "not valid" in repair[-1]["content"] and "reply" in repair[-1]["content"]
    assert list(LlmCall.objects.filter(item=item).order_by("created_at").values_list("purpose", flat=True)) == [
        "run", "repair"]


def test_answer_still_invalid_after_the_repair_goes_to_clarification(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry)
    llm_server.then(Reply(content="Gerne helfe ich Ihnen!"), Reply(content='{"reply": ""}'))
    item = submit()
    assert len(llm_server.requests) == 2
    assert "not JSON" in llm_server.bodies[1]["messages"][-1]["content"]
    assert item.status == ItemStatus.CLARIFICATION
    assert any("does not match the expected output" in r and "after one repair attempt" in r for r in item.reasons)
    assert "reply" not in item.fields


def test_confidence_from_log_probabilities(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry, prompt=prompt_content(confidence_mode="logprobs", fixed_confidence=0.3))
    llm_server.then(Reply(content=CLEAN_REPLY, logprobs=[-0.01, -0.2, -0.05, -0.1]))
    item = submit()
    assert llm_server.bodies[0]["logprobs"] is True
    expected = math.exp((-0.01 - 0.2 - 0.05 - 0.1) / 4)
    assert item.fields["reply"]["confidence"] == pytest.approx(expected, abs=1e-4)
    assert item.status == ItemStatus.APPLIED  # 0.91 >= auto 0.5


def test_without_log_probabilities_the_release_fixed_confidence_is_used(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry, prompt=prompt_content(confidence_mode="logprobs", fixed_confidence=0.3))
    item = submit()
    assert item.fields["reply"]["confidence"] == 0.3
    assert item.status == ItemStatus.REVIEW and any("Low confidence" in r for r in item.reasons)


def test_self_consistency_confidence_is_the_share_of_agreeing_samples(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry, prompt=prompt_content(
        confidence_mode="self_consistency", parameters={"temperature": 0.7, "samples": 4}))
    other = '{"reply": "Anderer Vorschlag (KI-generiert)"}'
    llm_server.then(Reply(content=CLEAN_REPLY), Reply(content=CLEAN_REPLY), Reply(content=other),
                    Reply(content=CLEAN_REPLY))
    item = submit()
    assert len(llm_server.requests) == 4
    assert all("samples" not in body for body in llm_server.bodies)
    assert item.fields["reply"]["confidence"] == 0.75


def test_provider_errors_fail_the_run_which_is_retried_then_escalated(tenant, team, llm_server, submit,
                                                                      settings, monkeypatch):
    settings.RUN_MAX_ATTEMPTS = 2
    monkeypatch.setattr(runs, "_backoff", lambda attempt: 0)
    entry = make_processor(tenant, team, llm_server.base_url, max_retries=0, circuit_failures=10)
    make_llm_use_case(tenant, team, entry)
    llm_server.default.status = 503
    item = submit()
    assert item.status == ItemStatus.ESCALATED
    run = item.runs.get()
    assert run.status == RunStatus.FAILED and "HTTP 503" in run.error
    assert Escalation.objects.filter(item=item).exists()
    assert LlmCall.objects.filter(item=item, status="failed").count() == 2


def test_a_release_without_a_prompt_template_asks_for_clarification(tenant, team, llm_server, submit):
    from automations.engines import get_engine
    from automations.engines.base import EngineInput
    from automations.execution.services.engine_services import EngineServicesForItem

    entry = make_processor(tenant, team, llm_server.base_url)
    use_case = make_llm_use_case(tenant, team, entry)
    result = get_engine("llm").suggest(
        EngineInput(tenant_id=tenant.pk, use_case_key="tickets", payload=TICKET, files=[], output_fields=[],
                    services=EngineServicesForItem(use_case=use_case)),
        parameters={"prompt_template_id": None})
    assert result.needs_clarification and "no submitted prompt template" in result.reasons[0]
    assert llm_server.requests == []


def test_masking_keeps_dates_and_ordinary_text():
    from automations.engines.llm.prompts import mask_text

    text = "Lieferung vom 2025-01-15, Auftrag 4711, Tel. 0711/123 45 67, Mail a.b@c.example"
    masked, counts = mask_text(text, {"email", "phone", "iban"})
    assert masked == "Lieferung vom 2025-01-15, Auftrag 4711, Tel. [PHONE], Mail [EMAIL]"
    assert counts == {"phone": 1, "email": 1}
    assert mask_text(text, set()) == (text, {})
