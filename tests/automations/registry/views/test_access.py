"""Access matrix of every registry page: anonymous (log-in page), a member without the permission (403),
a permitted member (the page, or the redirect after a write), and another tenant's object (404). A URL in
automations.urls without a row here fails the suite."""
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from automations.choices import ChangeKind
from automations.models import ChangeRequest
from automations.registry.services import changes, versions
from automations.registry.services.registry_io import registry_export
from automations.urls import urlpatterns
from portal.choices import Role
from tests import access
from tests.access import assert_sent_to_login, row_id
from tests.automations.factories import go_live, make_use_case
from tests.automations.registry.views.forms_data import use_case_form_data
from tests.conftest import in_tenant

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Row(access.Row):
    """`obj`: use_case, kind, version, draft_version, release, cr. `department`: an act on the use case that a
    department owner may do for their own departments only (docs/roles.md)."""

    actor: str = "automation_lead_2"
    department: bool = False


def _new_use_case(world):
    return use_case_form_data(world["tenant"], key="neu", title="Neuer Anwendungsfall", purpose="Belege sortieren")


def _documentation_change(world):
    data = use_case_form_data(world["tenant"], world[world["tenant"].pk]["use_case"], department="Einkauf")
    data.update({"change-title": "Abteilung korrigieren", "change-description": "Die Abteilung hat sich geändert."})
    return data


def _import_file(world):
    import json

    return {"file": SimpleUploadedFile("registry.json", json.dumps(registry_export(tenant=world["tenant"])).encode(),
                                       content_type="application/json")}


PROPOSE = "automations.add_changerequest"
MATRIX = [
    Row("automations:use-case-list"),
    Row("automations:use-case-create", permission="automations.add_usecase"),
    Row("automations:use-case-create", "post", "automations.add_usecase", ok=302, data=_new_use_case),
    Row("automations:use-case-detail", obj="use_case"),
    Row("automations:use-case-update", permission=PROPOSE, obj="use_case", department=True),
    Row("automations:use-case-update", "post", PROPOSE, obj="use_case", ok=302, data=_documentation_change,
        department=True),
    Row("automations:use-case-history", obj="use_case"),
    Row("automations:use-case-suspend", permission="automations.suspend_usecase", obj="use_case", department=True),
    Row("automations:use-case-suspend", "post", "automations.suspend_usecase", obj="use_case", ok=302,
        data={"reason": "Fehlerhafte Vorschläge"}, department=True),
    Row("automations:procedure-document", permission="automations.view_approval", obj="use_case"),
    Row("automations:procedure-document-pdf", permission="automations.view_approval", obj="use_case"),
    Row("automations:label-move-create", permission=PROPOSE, obj="use_case", department=True),
    Row("automations:label-move-create", "post", PROPOSE, obj="use_case", ok=302,
        data={"label": "pilot", "release": "1", "title": "Pilot", "description": "Erst im Pilot prüfen."},
        department=True),
    Row("automations:status-change-create", permission=PROPOSE, obj="use_case", department=True),
    Row("automations:status-change-create", "post", PROPOSE, obj="use_case", ok=302,
        data={"to": "retired", "title": "Abschalten", "description": "Wird nicht mehr gebraucht."}, department=True),
    Row("automations:release-create", permission="automations.add_release", obj="use_case"),
    Row("automations:release-create", "post", "automations.add_release", obj="use_case", ok=302,
        data={"threshold_set": "1", "engine_configs": ["1"], "note": "Neu gebündelt"}),
    Row("automations:release-detail", permission="automations.view_release", obj="release"),
    Row("automations:version-list", permission="automations.view_thresholdsetversion", obj="kind"),
    Row("automations:version-create", permission="automations.add_thresholdsetversion", obj="kind"),
    Row("automations:version-create", "post", "automations.add_thresholdsetversion", obj="kind", ok=302,
        data={"auto__category": "0.8", "reject__category": "0.2", "change_note": "strenger"}),
    Row("automations:version-detail", permission="automations.view_thresholdsetversion", obj="version"),
    Row("automations:version-submit", "post", "automations.add_thresholdsetversion", obj="draft_version", ok=302),
    Row("automations:version-diff", permission="automations.view_thresholdsetversion", obj="kind"),
    Row("automations:catalogue", permission="automations.view_catalogueentry"),
    Row("automations:catalogue-change", permission=PROPOSE),
    Row("automations:catalogue-change", "post", PROPOSE, ok=302, data={
        "key": "eu-llm", "kind": "processor", "name": "EU-LLM", "transfer_basis": "eu_eea", "settings": "{}",
        "is_active": "on", "title": "Neues Sprachmodell", "description": "Für Antwortvorschläge."}),
    Row("automations:tenant-policy", permission="automations.view_tenantpolicy"),
    Row("automations:tenant-policy-update", permission="automations.change_tenantpolicy"),
    Row("automations:tenant-policy-update", "post", "automations.change_tenantpolicy", ok=302, data={
        "controller_name": "Muster GmbH", "data_categories": "contact\nbank", "min_group_size": "5",
        "change_request_expiry_days": "30", "reason": "Stammdaten"}),
    Row("automations:tenant-policy-change", permission=PROPOSE),
    Row("automations:tenant-policy-change", "post", PROPOSE, ok=302, data={
        "allow_dual_role": "on", "standard_change_kinds": ["threshold_small_move"], "standard_threshold_delta": "0.05",
        "sample_check_share": "0.05", "title": "Doppelrolle", "description": "Kleines Team."}),
    Row("automations:change-request-inbox", permission="automations.view_changerequest"),
    Row("automations:change-request-list", permission="automations.view_changerequest"),
    Row("automations:change-request-detail", permission="automations.view_changerequest", obj="cr"),
    Row("automations:change-request-decide", "post", "automations.view_changerequest", obj="cr", ok=302,
        data={"role": "automation_lead", "decision": "approve", "comment": ""}, department=True),
    Row("automations:change-request-withdraw", "post", PROPOSE, obj="cr", ok=302, actor="automation_lead"),
    Row("automations:registry-export", permission="automations.view_release"),
    Row("automations:registry-import", permission="automations.add_release"),
    Row("automations:registry-import", "post", "automations.add_release", data=_import_file),
]
GUARDED = [row for row in MATRIX if row.permission]
WITH_OBJECT = [row for row in MATRIX if row.obj]
DEPARTMENT_BOUND = [row for row in MATRIX if row.department]


def _populate(tenant, team, key):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key=key, department_owner=team["department_owner"])
    go_live(use_case, team)
    cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                                       title="Zweck schärfen", description="Genauer beschreiben.",
                                       payload={"changes": {"purpose": "Eingangsbelege nach Art sortieren."}})
    draft = versions.version_create(actor=team["automation_lead_2"], use_case=use_case, kind="threshold_set",
                                    content={"thresholds": {"category": {"auto": 0.95, "reject": 0.4}}})
    return {"use_case": use_case, "cr": cr, "draft": draft}


@pytest.fixture
def world(tenant, make_tenant, member):
    """Two tenants with the same people in the same roles (so only the active tenant separates them), a
    use case live in production in each, an open change request and a draft threshold set."""
    from tests.automations.factories import make_team

    team = make_team(member)
    other = make_tenant("anderes", "Andere AG")
    access.same_team_in(other, team, tenant)
    return {"tenant": tenant, "other": other, "team": team,
            tenant.pk: _populate(tenant, team, "belege"), other.pk: _populate(other, team, "fremd")}


def _args(world, row, tenant):
    objects = world[tenant.pk]
    key = objects["use_case"].key
    return {
        None: [], "use_case": [key], "kind": [key, "threshold_set"], "version": [key, "threshold_set", 1],
        "draft_version": [key, "threshold_set", objects["draft"].number], "release": [key, 1],
        "cr": [objects["cr"].pk],
    }[row.obj]


def _request(client, world, row, tenant=None):
    return access.send(client, row, reverse(row.url_name, args=_args(world, row, tenant or world["tenant"])), world)


REGISTRY_VIEW_MODULES = {f"automations.registry.views.{name}" for name in ("use_cases", "versions", "changes",
                                                                                "catalogue", "registry_io")}


def test_every_registry_url_has_a_row_in_the_matrix():
    named = {pattern.name for pattern in urlpatterns if pattern.callback.__module__ in REGISTRY_VIEW_MODULES}
    assert len(named) >= 25
    assert access.urls_without_row(named, MATRIX, "automations") == set(), "registry URLs without an access-matrix row"


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_anonymous_goes_to_the_login_page(client, world, row):
    assert_sent_to_login(_request(client, world, row))


@pytest.mark.parametrize("row", GUARDED, ids=row_id)
def test_clerk_without_the_permission_gets_403(client, world, row, login):
    clerk = world["team"][Role.CLERK]
    assert not in_tenant(clerk, world["tenant"]).has_perm(row.permission)
    login(clerk, world["tenant"])
    assert _request(client, world, row).status_code == 403


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_permitted_member(client, world, row, login):
    login(world["team"][row.actor], world["tenant"])
    response = _request(client, world, row)
    assert response.status_code == row.ok, response.content.decode()[:2000]


@pytest.mark.parametrize("row", WITH_OBJECT, ids=row_id)
def test_object_of_the_other_tenant_is_404(client, world, row, login):
    login(world["team"][row.actor], world["tenant"])
    assert _request(client, world, row, tenant=world["other"]).status_code == 404
    if row.obj == "cr":
        cr = ChangeRequest.objects.get(pk=world[world["other"].pk]["cr"].pk)
        assert cr.state == "open" and not cr.approvals.exists()


def _as_department_owner(world, row) -> dict:
    """The row's data with a decision in the department owner's role."""
    data = row.payload(world)
    return {**data, "role": Role.DEPARTMENT_OWNER} if row.url_name == "automations:change-request-decide" else data


@pytest.mark.parametrize("row", DEPARTMENT_BOUND, ids=row_id)
def test_a_department_owner_of_another_department_gets_403(client, world, row, login, member):
    other_owner = member(Role.DEPARTMENT_OWNER, username="owner_einkauf")
    make_use_case(world["tenant"], world["team"]["automation_lead"], key="einkauf", department="Einkauf",
                  department_owner=other_owner)
    login(other_owner, world["tenant"])
    url = reverse(row.url_name, args=_args(world, row, world["tenant"]))
    assert access.send(client, row, url, world, data=_as_department_owner(world, row)).status_code == 403
    use_case = world[world["tenant"].pk]["use_case"]
    use_case.refresh_from_db()
    assert use_case.status == "production" and not ChangeRequest.objects.filter(author=other_owner).exists()
    assert not world[world["tenant"].pk]["cr"].approvals.exists()


@pytest.mark.parametrize("row", DEPARTMENT_BOUND, ids=row_id)
def test_the_use_cases_own_department_owner_is_permitted(client, world, row, login):
    login(world["team"][Role.DEPARTMENT_OWNER], world["tenant"])
    url = reverse(row.url_name, args=_args(world, row, world["tenant"]))
    response = access.send(client, row, url, world, data=_as_department_owner(world, row))
    assert response.status_code == row.ok, response.content.decode()[:2000]
