"""Separation of duties through the browser routes: the approval inbox per approver, decisions per role,
and every way around four eyes refused — the author, a second role by the same person, a clerk, a role
the person does not hold, an API token."""
import pytest
from django.urls import reverse

from audit.actors import SYSTEM
from automations.choices import ChangeKind, ChangeState, UseCaseStatus
from automations.models import ChangeRequest
from automations.registry import selectors
from automations.registry.services import changes
from portal import services as portal_services
from portal.choices import Role
from tests.automations.factories import evaluate_release, make_release, make_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(tenant, team):
    """A label move proposed by the first automation lead, for a use case with personal data: the
    department owner, an automation lead and the DSB must approve."""
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key="belege", department_owner=team["department_owner"],
                             data_subjects=["Lieferanten"])
    release = make_release(use_case, lead)
    return changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.LABEL_MOVE,
                                         title="R1 in den Pilot", description="Erst testen.",
                                         payload={"label": "pilot", "release_id": release.pk})


def _decide(client, cr, role, decision="approve", comment=""):
    return client.post(reverse("automations:change-request-decide", args=[cr.pk]),
                       {"role": role, "decision": decision, "comment": comment})


def _state(cr):
    cr = ChangeRequest.objects.get(pk=cr.pk)
    return cr.state, sorted((a.role, a.approver.username) for a in cr.approvals.all())


def test_inbox_shows_each_approver_what_waits_for_them(tenant, team, login, proposal):
    assert set(proposal.required_roles) == {"department_owner", "automation_lead", "data_protection_officer"}
    inbox = reverse("automations:change-request-inbox")
    for who, expected in (("department_owner", True), ("data_protection_officer", True), ("automation_lead_2", True),
                          ("automation_lead", False), ("works_council", False), ("auditor", False)):
        page = login(team[who], tenant).get(inbox).content.decode()
        assert ("R1 in den Pilot" in page) is expected, who
    page = login(team["data_protection_officer"], tenant).get(inbox).content.decode()
    assert "Release-Label „Pilot“" in page and "R1" in page  # the difference is shown in the inbox


def test_the_right_people_approve_until_applied(tenant, team, login, proposal):
    for who, role in (("department_owner", "department_owner"), ("data_protection_officer", "data_protection_officer"),
                      ("automation_lead_2", "automation_lead")):
        response = _decide(login(team[who], tenant), proposal, role)
        assert response.status_code == 302
    state, approvals = _state(proposal)
    assert state == ChangeState.APPLIED
    assert approvals == [("automation_lead", "automation_lead_2"),
                         ("data_protection_officer", "data_protection_officer"),
                         ("department_owner", "department_owner")]
    assert selectors.label_map(use_case=proposal.use_case)["pilot"].number == 1


def test_the_author_cannot_approve(tenant, team, login, proposal):
    client = login(team["automation_lead"], tenant)
    response = _decide(client, proposal, "automation_lead")
    assert response.status_code == 403
    assert _state(proposal) == (ChangeState.OPEN, [])
    assert "form" not in response.context or response.context["form"] is None
    assert client.get(reverse("automations:change-request-detail", args=[proposal.pk])).context["form"] is None


def test_one_person_cannot_fill_two_roles(tenant, team, login, proposal):
    both = team["department_owner"]
    membership = both.memberships.get(tenant=tenant)
    portal_services.membership_set_roles(actor=SYSTEM, membership=membership,
                                         roles=["department_owner", "data_protection_officer"], reason="klein")
    client = login(both, tenant)
    assert _decide(client, proposal, "department_owner").status_code == 302
    response = _decide(client, proposal, "data_protection_officer")
    assert response.status_code == 403
    assert _state(proposal) == (ChangeState.OPEN, [("department_owner", "department_owner")])
    # Nor is it offered: the inbox no longer lists the request for this person.
    assert "R1 in den Pilot" not in client.get(reverse("automations:change-request-inbox")).content.decode()


def test_a_clerk_cannot_approve(tenant, team, login, proposal):
    response = _decide(login(team["clerk"], tenant), proposal, "automation_lead")
    assert response.status_code == 403
    assert _state(proposal) == (ChangeState.OPEN, [])


def test_a_role_the_person_does_not_hold_is_refused(tenant, team, login, proposal):
    response = _decide(login(team["auditor"], tenant), proposal, "data_protection_officer")
    assert response.status_code == 403
    assert _state(proposal) == (ChangeState.OPEN, [])


def test_another_department_owner_cannot_approve_for_the_department(tenant, team, login, member, proposal):
    stranger = member(Role.DEPARTMENT_OWNER, username="anderer_bereich")
    response = _decide(login(stranger, tenant), proposal, "department_owner")
    assert response.status_code == 403
    assert _state(proposal) == (ChangeState.OPEN, [])


def test_an_api_token_on_the_browser_route_approves_nothing(client, tenant, team, proposal):
    _token, plain = portal_services.api_token_create(actor=team["automation_lead_2"], tenant=tenant,
                                                     user=team["automation_lead_2"], name="ci")
    response = client.post(reverse("automations:change-request-decide", args=[proposal.pk]),
                           {"role": "automation_lead", "decision": "approve"}, HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert _state(proposal) == (ChangeState.OPEN, [])


def test_rejecting_needs_a_reason_and_keeps_the_request(tenant, team, login, proposal):
    client = login(team["data_protection_officer"], tenant)
    assert _decide(client, proposal, "data_protection_officer", "reject").status_code == 400
    assert _state(proposal) == (ChangeState.OPEN, [])
    assert _decide(client, proposal, "data_protection_officer", "reject", "DSFA fehlt").status_code == 302
    state, _approvals = _state(proposal)
    assert state == ChangeState.REJECTED
    page = client.get(reverse("automations:change-request-list"), {"state": "rejected"}).content.decode()
    assert "R1 in den Pilot" in page


def test_the_author_withdraws_others_cannot(tenant, team, login, proposal):
    assert login(team["automation_lead_2"], tenant).post(
        reverse("automations:change-request-withdraw", args=[proposal.pk])).status_code == 302
    assert _state(proposal)[0] == ChangeState.OPEN
    login(team["automation_lead"], tenant).post(reverse("automations:change-request-withdraw", args=[proposal.pk]))
    assert _state(proposal)[0] == ChangeState.WITHDRAWN


def test_label_move_shows_the_versions_side_by_side(tenant, team, login, proposal):
    page = login(team["department_owner"], tenant).get(
        reverse("automations:change-request-detail", args=[proposal.pk]))
    release_diff = page.context["release_diff"]
    assert release_diff["left"] is None and release_diff["right"].number == 1
    assert any("[Schwellenwerte, Version 1]" in row.right for row in release_diff["rows"])  # parts by name


# --- query counts --------------------------------------------------------------------------------------

def _use_cases(tenant, team, n, start=0):
    for i in range(start, start + n):
        make_use_case(tenant, team["automation_lead"], key=f"fall-{i}", department=f"Abteilung {i % 3}",
                      department_owner=team["department_owner"])


@pytest.mark.parametrize("count", [2, 12])
def test_registry_list_queries_do_not_grow_with_rows(tenant, team, login, django_assert_max_num_queries, count):
    _use_cases(tenant, team, count)
    client = login(team["auditor"], tenant)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("automations:use-case-list"), {"department": "Abteilung 1"})
    assert response.status_code == 200
    assert len(response.context["use_cases"]) == len([i for i in range(count) if i % 3 == 1])


@pytest.mark.parametrize("count", [1, 8])
def test_inbox_queries_do_not_grow_with_requests(tenant, team, login, django_assert_max_num_queries, count):
    lead = team["automation_lead"]
    _use_cases(tenant, team, count)
    for use_case in selectors.use_case_list(tenant=tenant):
        release = make_release(use_case, lead)
        cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.LABEL_MOVE,
                                           title=f"{use_case.key} pilot", description="d",
                                           payload={"label": "pilot", "release_id": release.pk})
        changes.change_request_approve(actor=team["automation_lead_2"], change_request=cr, role="automation_lead")
    client = login(team["department_owner"], tenant)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("automations:change-request-inbox"))
    assert len(response.context["entries"]) == count
    assert all(entry["form"] is not None for entry in response.context["entries"])


def test_approved_use_case_reaches_production_through_the_pages(tenant, team, login):
    """The walk a new user takes, in the test client: document, version, release, request, approve."""
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key="belege", department_owner=team["department_owner"])
    release = make_release(use_case, lead)
    evaluate_release(release, lead)  # the evidence production needs (the quality pages: tests/automations/evaluation)
    client = login(lead, tenant)
    client.post(reverse("automations:label-move-create", args=["belege"]),
                {"label": "production", "release": str(release.number), "title": "live", "description": "los"})
    for cr in selectors.change_request_list(tenant=tenant, state=ChangeState.OPEN):
        for who, role in (("department_owner", "department_owner"), ("automation_lead_2", "automation_lead")):
            _decide(login(team[who], tenant), cr, role)
    client = login(lead, tenant)
    client.post(reverse("automations:status-change-create", args=["belege"]),
                {"to": "production", "title": "in Produktion", "description": "freigegeben"})
    cr = selectors.change_request_list(tenant=tenant, state=ChangeState.OPEN).get()
    for who, role in (("department_owner", "department_owner"), ("automation_lead_2", "automation_lead")):
        _decide(login(team[who], tenant), cr, role)
    use_case.refresh_from_db()
    assert use_case.status == UseCaseStatus.PRODUCTION
