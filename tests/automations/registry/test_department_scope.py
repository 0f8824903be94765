"""A department owner acts within their own departments only (docs/roles.md): they suspend, propose changes to
and approve for the use cases of their departments — those naming them as department owner or granted to them,
and the others of those departments — in the services (fail closed), in what waits for their approval, on the
pages and in the API; another department's use case answers 403. The automation lead, ISB, DSB and IT act
tenant-wide as before."""
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from automations.choices import ChangeKind, ChangeState, UseCaseStatus
from automations.models import UseCase
from automations.registry.selectors import change_request_inbox, use_case_list, use_case_may
from automations.registry.services import changes, use_cases
from portal.choices import Role, TokenScope
from portal.services import api_token_create
from tests.access import login
from tests.automations.factories import go_live, make_release, make_team, make_use_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments(tenant, member):
    """Buchhaltung (rechnungen, named owner: department_owner) and Kundenservice (tickets, named owner:
    owner_service; retouren, naming nobody), all in pilot."""
    team = make_team(member)
    team["owner_service"] = member(Role.DEPARTMENT_OWNER, username="owner_service")
    lead = team["automation_lead"]
    made = {
        "rechnungen": make_use_case(tenant, lead, key="rechnungen", department="Buchhaltung",
                                    department_owner=team["department_owner"]),
        "tickets": make_use_case(tenant, lead, key="tickets", department="Kundenservice",
                                 department_owner=team["owner_service"]),
        "retouren": make_use_case(tenant, lead, key="retouren", department="Kundenservice"),
    }
    approvers = {**team, "department_owner": team["owner_service"]}
    for key, use_case in made.items():
        go_live(use_case, team if key == "rechnungen" else approvers, status=UseCaseStatus.PILOT)
    return {"team": team, **{key: UseCase.objects.get(pk=u.pk) for key, u in made.items()}}


def _label_move(departments, key, author="automation_lead"):
    use_case = departments[key]
    release = make_release(use_case, departments["team"]["automation_lead"])
    return changes.change_request_create(actor=departments["team"][author], tenant=use_case.tenant,
                                         use_case=use_case, kind=ChangeKind.LABEL_MOVE, title="R2",
                                         description="neue Regeln",
                                         payload={"label": "pilot", "release_id": release.pk})


def test_the_department_reach_is_the_owned_use_cases_and_their_departments(tenant, departments):
    team = departments["team"]
    reach = {u.key for u in use_case_list(tenant=tenant, user=team["department_owner"], action="department")}
    assert reach == {"rechnungen"}
    reach = {u.key for u in use_case_list(tenant=tenant, user=team["owner_service"], action="department")}
    assert reach == {"tickets", "retouren"}  # retouren names nobody: it belongs to the department
    assert not use_case_list(tenant=tenant, user=team["clerk"], action="department").exists()
    for role in (Role.AUTOMATION_LEAD, Role.SECURITY_OFFICER, Role.DATA_PROTECTION_OFFICER):
        assert use_case_list(tenant=tenant, user=team[str(role)], action="suspend").count() == 3
    assert not use_case_list(tenant=tenant, user=team["works_council"], action="suspend").exists()
    assert use_case_list(tenant=tenant, user=team["it_operator"], action="propose").count() == 3


def test_a_department_owner_suspends_only_their_departments_use_cases(departments):
    team = departments["team"]
    owner = team["department_owner"]
    for key in ("tickets", "retouren"):
        with pytest.raises(PermissionDenied):
            use_cases.use_case_suspend(actor=owner, use_case=departments[key], reason="Fehler")
    assert UseCase.objects.get(key="tickets").status == UseCaseStatus.PILOT
    use_cases.use_case_suspend(actor=owner, use_case=departments["rechnungen"], reason="Fehler")
    use_cases.use_case_suspend(actor=team["owner_service"], use_case=departments["retouren"], reason="Fehler")
    use_cases.use_case_suspend(actor=team["security_officer"], use_case=departments["tickets"], reason="Vorfall")
    assert set(UseCase.objects.values_list("status", flat=True)) == {UseCaseStatus.SUSPENDED}


def test_a_department_owner_approves_and_sees_waiting_only_their_departments_changes(tenant, departments):
    team = departments["team"]
    owner, service = team["department_owner"], team["owner_service"]
    tickets, retouren, rechnungen = (_label_move(departments, key) for key in ("tickets", "retouren", "rechnungen"))
    assert change_request_inbox(tenant=tenant, user=owner) == [rechnungen]
    assert {cr.pk for cr in change_request_inbox(tenant=tenant, user=service)} == {tickets.pk, retouren.pk}
    for cr in (tickets, retouren):
        with pytest.raises(PermissionDenied):
            changes.change_request_approve(actor=owner, change_request=cr, role=Role.DEPARTMENT_OWNER)
        with pytest.raises(PermissionDenied):
            changes.change_request_reject(actor=owner, change_request=cr, role=Role.DEPARTMENT_OWNER,
                                          comment="nicht meins")
    with pytest.raises(PermissionDenied):  # rechnungen names its own department owner
        changes.change_request_approve(actor=service, change_request=rechnungen, role=Role.DEPARTMENT_OWNER)
    for cr in (tickets, retouren):
        changes.change_request_approve(actor=service, change_request=cr, role=Role.DEPARTMENT_OWNER)
        changes.change_request_approve(actor=team["automation_lead_2"], change_request=cr,
                                       role=Role.AUTOMATION_LEAD)
        cr.refresh_from_db()
        assert cr.state == ChangeState.APPLIED


def test_a_department_owner_proposes_changes_to_their_departments_use_cases_only(departments):
    with pytest.raises(PermissionDenied):
        _label_move(departments, "tickets", author="department_owner")
    assert _label_move(departments, "rechnungen", author="department_owner").state == ChangeState.OPEN
    assert _label_move(departments, "tickets", author="it_operator").state == ChangeState.OPEN


def test_the_pages_offer_and_take_only_the_own_departments_acts(client, tenant, departments):
    team = departments["team"]
    cr = _label_move(departments, "tickets")
    login(client, team["department_owner"], tenant)
    foreign = client.get(reverse("automations:use-case-detail", args=["tickets"])).content.decode()
    assert 'id="suspend-use-case"' not in foreign and 'id="propose-status-change"' not in foreign
    own = client.get(reverse("automations:use-case-detail", args=["rechnungen"])).content.decode()
    assert 'id="suspend-use-case"' in own and 'id="propose-status-change"' in own
    assert client.get(reverse("automations:use-case-suspend", args=["tickets"])).status_code == 403
    assert client.post(reverse("automations:use-case-suspend", args=["tickets"]),
                       {"reason": "Fehler"}).status_code == 403
    assert client.get(reverse("automations:status-change-create", args=["tickets"])).status_code == 403
    assert UseCase.objects.get(key="tickets").status == UseCaseStatus.PILOT

    detail = client.get(reverse("automations:change-request-detail", args=[cr.pk])).content.decode()
    assert reverse("automations:change-request-decide", args=[cr.pk]) not in detail  # no decision form
    decided = client.post(reverse("automations:change-request-decide", args=[cr.pk]),
                          {"role": Role.DEPARTMENT_OWNER, "decision": "approve", "comment": ""})
    assert decided.status_code == 403
    assert not cr.approvals.exists()
    inbox = client.get(reverse("automations:change-request-inbox")).content.decode()
    assert f"CR-{cr.pk}" not in inbox

    assert client.post(reverse("automations:use-case-suspend", args=["rechnungen"]),
                       {"reason": "Fehler"}).status_code == 302
    assert UseCase.objects.get(key="rechnungen").status == UseCaseStatus.SUSPENDED


def test_the_api_refuses_another_departments_use_case(client, tenant, departments):
    owner = departments["team"]["department_owner"]
    token = api_token_create(actor=owner, tenant=tenant, user=owner, name="t", scopes=[TokenScope.REGISTRY_WRITE,
                                                                                        TokenScope.READ])[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    refused = client.post(reverse("api:use-case-suspend", args=["tickets"]), {"reason": "Fehler"},
                          content_type="application/json", **headers)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    proposal = {"kind": ChangeKind.STATUS_CHANGE, "use_case": "tickets", "title": "zurück",
                "description": "Entwurf", "payload": {"to": UseCaseStatus.DRAFT}}
    assert client.post(reverse("api:change-request-list"), proposal, content_type="application/json",
                       **headers).status_code == 403
    assert client.post(reverse("api:change-request-list"), {**proposal, "use_case": "rechnungen"},
                       content_type="application/json", **headers).status_code == 201
    done = client.post(reverse("api:use-case-suspend", args=["rechnungen"]), {"reason": "Fehler"},
                       content_type="application/json", **headers)
    assert done.status_code == 200 and done.json()["status"] == UseCaseStatus.SUSPENDED
    assert UseCase.objects.get(key="tickets").status == UseCaseStatus.PILOT
    assert use_case_may(use_case=departments["tickets"], user=owner, action="view")  # the registry stays readable
