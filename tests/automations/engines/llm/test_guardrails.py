"""Every guardrail of the release fires on a generated reply and keeps it from being applied
automatically: the item goes to review with the violation as a reason, beside the field too, and the
suggested text unchanged."""
import json

import pytest

from automations.choices import ItemStatus
from automations.execution.pipeline.steps import guardrail_findings
from automations.models import GuardrailSetVersion
from reviews.choices import QueueKind
from reviews.models import ReviewTask
from tests.automations.engines.llm.conftest import GUARDRAILS, make_llm_use_case, make_processor
from tests.automations.engines.llm.server import Reply

pytestmark = pytest.mark.django_db

OK_ENDING = " (KI-generiert)"
CASES = [
    ("forbidden phrase", "Wir garantieren die Reparatur bis Freitag." + OK_ENDING,
     "Guardrail: forbidden phrase “garantieren”"),
    ("binding statement", "Diese Zusage ist rechtsverbindlich." + OK_ENDING,
     "Guardrail: forbidden phrase “rechtsverbindlich”"),
    ("refund promise", "Wir erstatten Ihnen den vollen Betrag." + OK_ENDING,
     "Guardrail: forbidden phrase “wir erstatten”"),
    ("forbidden pattern", "Das Problem ist 100 % sicher behoben." + OK_ENDING,
     "Guardrail: forbidden pattern \\b100\\s?%\\s+sicher\\b"),
    ("e-mail address", "Schreiben Sie an support@muster.example." + OK_ENDING,
     "Guardrail: personal data (email) in generated text"),
    ("IBAN", "Überweisen Sie an DE89 3704 0044 0532 0130 00." + OK_ENDING,
     "Guardrail: personal data (iban) in generated text"),
    ("phone number", "Rufen Sie uns an: +49 711 987654." + OK_ENDING,
     "Guardrail: personal data (phone) in generated text"),
    ("missing disclaimer", "Wir melden uns morgen bei Ihnen.",
     "Guardrail: required disclaimer missing (“KI-generiert”)"),
    ("too long", "Vielen Dank für Ihre Nachricht. " * 8 + OK_ENDING,
     "Guardrail: longer than 200 characters"),
]


@pytest.fixture
def live(tenant, team, llm_server):
    entry = make_processor(tenant, team, llm_server.base_url)
    return make_llm_use_case(tenant, team, entry)


def test_a_clean_reply_is_applied_automatically(live, submit):
    item = submit()
    assert item.status == ItemStatus.APPLIED and item.reasons == []


@pytest.mark.parametrize("name,reply,violation", CASES, ids=[c[0] for c in CASES])
def test_each_guardrail_fires_and_blocks_automatic_application(live, llm_server, submit, name, reply, violation):
    llm_server.then(Reply(content=json.dumps({"reply": reply}, ensure_ascii=False)))
    item = submit()
    assert item.status == ItemStatus.REVIEW
    assert f"reply: {violation}" in item.reasons
    assert f"reply: {violation}" in item.fields["reply"]["reasons"]
    assert item.fields["reply"]["value"] == reply  # shown to the clerk as generated, never altered
    assert item.finalised_at is None
    task = ReviewTask.objects.get(item=item)
    assert task.queue.kind == QueueKind.REVIEW and f"reply: {violation}" in task.reasons


def test_findings_carry_the_positions_to_highlight(live):
    guardrails = GuardrailSetVersion.objects.get(use_case=live)
    text = "Wir GARANTIEREN es. Mail: a@b.example. " + "x" * 180
    findings = {f.message: f.spans for f in guardrail_findings(guardrails, text)}
    phrase = findings["Guardrail: forbidden phrase “garantieren”"]
    assert [text[a:b] for a, b in phrase] == ["GARANTIEREN"]
    assert [text[a:b] for a, b in findings["Guardrail: personal data (email) in generated text"]] == ["a@b.example"]
    assert findings["Guardrail: required disclaimer missing (“KI-generiert”)"] == ()
    assert findings["Guardrail: longer than 200 characters"] == ((200, len(text)),)


def test_guardrails_also_apply_in_the_pilot_where_nothing_is_applied_anyway(tenant, team, llm_server, submit):
    entry = make_processor(tenant, team, llm_server.base_url)
    make_llm_use_case(tenant, team, entry, status="pilot", guardrails={**GUARDRAILS, "max_length": 20})
    item = submit()
    assert item.status == ItemStatus.REVIEW
    assert "reply: Guardrail: longer than 20 characters" in item.fields["reply"]["reasons"]
