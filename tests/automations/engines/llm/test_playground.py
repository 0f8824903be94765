"""The prompt playground: the core team renders draft and submitted prompt versions on sample input,
sees answer, guardrail result and latency side by side, and no work item comes of it."""
import json

import pytest
from django.urls import reverse

from audit.actors import SYSTEM
from audit.models import AuditEvent
from automations.models import LlmCall, WorkItem
from automations.registry.services import versions
from portal import services as portal_services
from portal.choices import Role
from tests import access
from tests.access import assert_sent_to_login
from tests.automations.engines.llm.conftest import make_llm_use_case, make_processor, prompt_content
from tests.automations.engines.llm.server import Reply

pytestmark = pytest.mark.django_db

SAMPLE = {"input_subject": "Lieferung fehlt", "input_body": "Bitte melden Sie sich unter 0711 123456 78.",
          "input_internal_note": "nur intern"}


def login(client, user, tenant):
    """Logged in with the tenant chosen, and English chosen with the language switch."""
    return access.login(client, user, tenant, language="en")


@pytest.fixture
def setup(tenant, team, llm_server):
    entry = make_processor(tenant, team, llm_server.base_url)
    use_case = make_llm_use_case(tenant, team, entry)
    lead = team["automation_lead"]
    draft = versions.version_create(actor=lead, use_case=use_case, kind="prompt_template", content=prompt_content(
        template="Kurz und freundlich. Betreff: {{ subject }}\n{{ body }}", confidence_mode="logprobs"))
    return {"use_case": use_case, "draft": draft, "lead": lead}


def post(client, use_case, **data):
    return client.post(reverse("automations:playground-use-case", args=[use_case.key]),
                       {"version_a": 1, "guardrail_set": 1, **SAMPLE, **data})


@pytest.mark.parametrize("url_name,method", [
    ("automations:playground", "get"), ("automations:playground-use-case", "get"),
    ("automations:playground-use-case", "post")])
def test_access_matrix(client, tenant, team, make_tenant, setup, llm_server, url_name, method):
    args = [setup["use_case"].key] if url_name.endswith("use-case") else []
    url = reverse(url_name, args=args)
    data = {"version_a": 1, **SAMPLE} if method == "post" else {}
    assert_sent_to_login(getattr(client, method)(url, data))
    for role in ("clerk", "data_protection_officer", "it_operator", "works_council"):
        login(client, team[role], tenant)
        assert getattr(client, method)(url, data).status_code == 403, role
    login(client, setup["lead"], tenant)
    assert getattr(client, method)(url, data).status_code == 200
    if args:  # the same key in another tenant where the lead also works: not found there
        other = make_tenant("anderes", "Andere AG")
        portal_services.membership_create(actor=SYSTEM, tenant=other, user=setup["lead"], roles=[Role.AUTOMATION_LEAD])
        login(client, setup["lead"], other)
        assert getattr(client, method)(url, data).status_code == 404
    assert not WorkItem.objects.exists()


def test_the_form_offers_every_prompt_version_and_only_sendable_inputs(client, tenant, setup):
    login(client, setup["lead"], tenant)
    page = client.get(reverse("automations:playground-use-case", args=[setup["use_case"].key])).content.decode()
    assert "v1 (" in page and "v2 (" in page
    assert 'name="input_subject"' in page and 'name="input_body"' in page
    index = client.get(reverse("automations:playground")).content.decode()
    assert reverse("automations:playground-use-case", args=[setup["use_case"].key]) in index


def test_two_versions_side_by_side_with_output_guardrails_and_latency_and_no_work_item(
        client, tenant, setup, llm_server):
    login(client, setup["lead"], tenant)
    llm_server.then(Reply(content=json.dumps({"reply": "Wir garantieren die Lieferung morgen. (KI-generiert)"})),
                    Reply(content=json.dumps({"reply": "Wir prüfen das. (KI-generiert)"}), logprobs=[-0.1, -0.1]))
    response = post(client, setup["use_case"], version_b=2)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "Prompt version v1" in page and "Prompt version v2" in page
    assert "<mark>garantieren</mark>" in page
    assert "Guardrail: forbidden phrase “garantieren”" in page and "Guardrail violated: review only" in page
    assert "Wir prüfen das. (KI-generiert)" in page and "Guardrails passed" in page
    assert "confidence 0.90" in page  # exp(-0.1) from the log-probabilities of v2
    assert "confidence from the model&#x27;s log-probabilities" in page and "confidence from the fixed value" in page
    assert " ms in 1 call(s)" in page and "42 prompt tokens" in page
    assert "Masked before sending:" in page and "[PHONE]" in page
    # the draft's template reached the provider, and undeclared sample fields did not
    first, second = (json.dumps(b, ensure_ascii=False) for b in llm_server.bodies)
    assert "Kurz und freundlich" in second and "Kurz und freundlich" not in first
    assert "nur intern" not in first + second
    assert not WorkItem.objects.exists()
    calls = LlmCall.objects.filter(purpose="playground").order_by("created_at")  # going live evaluated, too
    assert [(c.item_id, c.purpose, c.requested_by) for c in calls] == [
        (None, "playground", setup["lead"]), (None, "playground", setup["lead"])]
    audited = AuditEvent.objects.filter(event_type="prompt_playground.ran").order_by("sequence")
    assert [e.details["outcome"] for e in audited] == ["blocked", "ok"]
    assert all("Lieferung" not in json.dumps(e.details) for e in audited)


def test_a_refused_version_shows_why_and_sends_nothing(client, tenant, team, setup, llm_server):
    versions.version_create(actor=setup["lead"], use_case=setup["use_case"], kind="prompt_template",
                            content=prompt_content(declared_fields=["subject", "body", "sender_email"],
                                                   template="{{ sender_email }}: {{ body }}"))
    login(client, setup["lead"], tenant)
    page = post(client, setup["use_case"], version_a=3, input_sender_email="a@b.example").content.decode()
    assert "Refused: nothing sent" in page and "sender_email is personal data (contact)" in page
    assert llm_server.requests == []


def test_a_provider_that_is_down_is_shown_not_raised(client, tenant, setup, llm_server):
    llm_server.default.status = 503
    login(client, setup["lead"], tenant)
    page = post(client, setup["use_case"]).content.decode()
    assert "No answer" in page and "HTTP 503" in page
    assert LlmCall.objects.get(purpose="playground").status == "failed"


def test_versions_of_another_use_case_cannot_be_chosen(client, tenant, team, setup, llm_server):
    login(client, setup["lead"], tenant)
    response = post(client, setup["use_case"], version_a=99)
    assert response.status_code == 400 and llm_server.requests == []
