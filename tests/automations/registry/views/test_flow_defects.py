"""Registry flows that tripped people: resuming a suspended use case, the threshold form's messages, high
risk without a DPIA reference, training on a handful of examples."""
import pytest
from django.urls import reverse

from automations.choices import RiskTier, UseCaseStatus
from automations.registry.services.use_cases import use_case_suspend
from automations.training.selectors import FEW_EXAMPLES, few_examples_warning
from tests.automations.factories import go_live, make_use_case
from tests.automations.registry.views.forms_data import use_case_form_data

pytestmark = pytest.mark.django_db


def test_resuming_a_suspended_use_case_proposes_production_and_offers_only_moves_that_can_succeed(
        tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"])
    go_live(use_case, team)  # only the production label points at a release
    use_case_suspend(actor=team["automation_lead"], use_case=use_case, reason="Fehlerhafte Zuordnungen")
    client = login(team["automation_lead"], tenant)
    form = client.get(reverse("automations:status-change-create", args=["belege"])).context["form"]
    assert form.initial == {"to": UseCaseStatus.PRODUCTION}
    offered = {value for value, _label in form.fields["to"].choices}
    assert UseCaseStatus.PRODUCTION in offered and UseCaseStatus.PILOT not in offered
    response = client.post(reverse("automations:status-change-create", args=["belege"]),
                           {"to": "production", "title": "Wieder aufnehmen", "description": "behoben"})
    assert response.status_code == 302


def test_a_threshold_that_is_no_number_says_so_instead_of_asking_for_both(tenant, team, login):
    make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    response = client.post(reverse("automations:version-create", args=["belege", "threshold_set"]),
                           {"auto__category": "hoch", "reject__category": "0,3", "change_note": "x"})
    page = response.content.decode()
    assert response.status_code in (200, 400)
    assert "Geben Sie beide Zahlen an oder keine" not in page
    assert "Zahl" in page  # Django's "Enter a number." in German, beside the field
    ok = client.post(reverse("automations:version-create", args=["belege", "threshold_set"]),
                     {"auto__category": "0,95", "reject__category": "0,3", "change_note": "deutsch geschrieben"})
    assert ok.status_code == 302


def test_high_risk_asks_for_the_dpia_reference(tenant, team, login):
    client = login(team["department_owner"], tenant)
    data = use_case_form_data(tenant, key="bewerbungen", title="Bewerbungen", purpose="Bewerbungen vorsortieren",
                              department_owner="department_owner", risk_tier=RiskTier.HIGH, dpia_reference="")
    response = client.post(reverse("automations:use-case-create"), data)
    assert response.status_code != 302
    assert "Datenschutz-Folgenabschätzung" in response.content.decode()
    data["dpia_reference"] = "DSFA-2026-07"
    assert client.post(reverse("automations:use-case-create"), data).status_code == 302


def test_training_on_a_handful_of_examples_warns():
    assert "2" in few_examples_warning(2) and few_examples_warning(FEW_EXAMPLES) == ""


def test_a_change_request_that_alters_the_briefing_says_so(tenant, team, login):
    from automations.choices import ChangeKind, ChangeState
    from automations.registry import selectors
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"])
    go_live(use_case, team)
    client = login(team["it_operator"], tenant)
    data = use_case_form_data(tenant, use_case, manual_fallback="Beleg an die Poststelle geben",
                              **{"change-title": "Rückfallverfahren", "change-description": "Neue Ablage."})
    assert client.post(reverse("automations:use-case-update", args=["belege"]), data).status_code == 302
    cr = selectors.change_request_list(tenant=tenant, use_case=use_case, state=ChangeState.OPEN).get()
    assert cr.kind == ChangeKind.DOCUMENTATION
    page = client.get(reverse("automations:change-request-detail", args=[cr.pk])).content.decode()
    assert 'id="briefing-notice"' in page and "Einweisung" in page
    from automations.models import ChangeRequest
    from automations.registry.views.changes import alters_briefing
    purpose_only = ChangeRequest(tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                                 payload={"changes": {"purpose": "Belege sortieren"}})
    assert alters_briefing(purpose_only) == []
