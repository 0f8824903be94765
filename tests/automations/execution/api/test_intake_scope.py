"""Who may send work items to which use case (docs/roles.md, action `intake`): the automation lead and IT to
every use case of the tenant; a clerk to the use cases of their team's department (or of a queue granted to
them); a department owner to the use cases they own. Another team's use case is refused with 403 in the API
(JSON and multipart), on the upload page and in the bulk import, and nothing is stored."""
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.actors import SYSTEM
from automations.execution.services.imports import work_items_import
from automations.models import WorkItem
from automations.registry.services.use_cases import use_case_owner_grant
from portal.choices import Role
from tests.access import login
from tests.automations.execution.api.test_work_items import INVOICE_TEXT, Api
from tests.automations.factories import make_rules_use_case, make_team
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments(tenant, member):
    team = make_team(member)
    team["clerk_kundenservice"] = member(Role.CLERK, username="clerk_kundenservice")
    team["owner_einkauf"] = member(Role.DEPARTMENT_OWNER, username="owner_einkauf")  # owns nothing yet
    belege = make_rules_use_case(tenant, team, key="belege", department="Buchhaltung", status="pilot")
    tickets = make_rules_use_case(tenant, team, key="tickets", department="Kundenservice", status="pilot")
    join_team(team["clerk"], belege, team["automation_lead"])
    join_team(team["clerk_kundenservice"], tickets, team["automation_lead"])
    return {"team": team, "belege": belege, "tickets": tickets}


@pytest.fixture
def api_for(django_capture_on_commit_callbacks, tenant):
    def make(user):
        return Api(user, tenant, django_capture_on_commit_callbacks)

    return make


def items_of(key: str) -> int:
    return WorkItem.objects.filter(use_case__key=key).count()


def test_a_clerk_sends_work_to_their_teams_use_cases_only(departments, api_for):
    clerk = api_for(departments["team"]["clerk"])
    assert clerk.submit({"text": INVOICE_TEXT}, use_case="belege").status_code == 201
    refused = clerk.submit({"text": INVOICE_TEXT}, use_case="tickets")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/")  # a JSON problem, as every API error
    assert refused.json()["code"] == "permission_denied" and "tickets" in refused.json()["detail"]
    upload = clerk.upload("brief.txt", INVOICE_TEXT.encode(), use_case="tickets")
    assert upload.status_code == 403
    assert (items_of("belege"), items_of("tickets")) == (1, 0)

    other = api_for(departments["team"]["clerk_kundenservice"])
    assert other.submit({"text": INVOICE_TEXT}, use_case="tickets").status_code == 201
    assert other.upload("brief.txt", INVOICE_TEXT.encode(), use_case="belege").status_code == 403
    assert (items_of("belege"), items_of("tickets")) == (1, 1)


@pytest.mark.parametrize("role", [Role.AUTOMATION_LEAD, Role.IT_OPERATOR])
def test_the_lead_and_it_send_work_to_every_use_case(departments, api_for, role):
    api = api_for(departments["team"][str(role)])
    for key in ("belege", "tickets"):
        assert api.submit({"text": INVOICE_TEXT}, use_case=key).status_code == 201
        assert api.upload("brief.txt", INVOICE_TEXT.encode(), use_case=key).status_code == 201
    assert (items_of("belege"), items_of("tickets")) == (2, 2)


def test_a_department_owner_sends_work_to_the_use_cases_they_own(departments, api_for):
    owner = departments["team"]["owner_einkauf"]
    api = api_for(owner)
    assert api.submit({"text": INVOICE_TEXT}, use_case="belege").status_code == 403
    use_case_owner_grant(actor=SYSTEM, use_case=departments["belege"], user=owner)
    assert api.submit({"text": INVOICE_TEXT}, use_case="belege").status_code == 201
    assert api.submit({"text": INVOICE_TEXT}, use_case="tickets").status_code == 403
    assert (items_of("belege"), items_of("tickets")) == (1, 0)


def test_the_upload_page_offers_and_takes_only_the_teams_use_cases(client, tenant, departments,
                                                                   django_capture_on_commit_callbacks):
    login(client, departments["team"]["clerk"], tenant)
    page = client.get(reverse("work:upload")).content.decode()
    assert 'value="belege"' in page and 'value="tickets"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("work:upload"), {
            "use_case": "tickets", "files": [SimpleUploadedFile("brief.txt", INVOICE_TEXT.encode(), "text/plain")]})
    assert refused.status_code == 403
    assert items_of("tickets") == 0


def test_the_bulk_import_refuses_another_teams_use_case(departments):
    line = '{"payload": {"text": "Rechnung"}}'
    with pytest.raises(PermissionDenied):
        work_items_import(actor=departments["team"]["clerk"], tenant=departments["belege"].tenant,
                          use_case_key="tickets", lines=[line])
    report = work_items_import(actor=departments["team"]["clerk"], tenant=departments["belege"].tenant,
                               use_case_key="belege", lines=[line])
    assert report.created == 1 and items_of("tickets") == 0
