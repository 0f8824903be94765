"""Registry as code: export a tenant's registry, import it into an empty tenant (drafts and change requests
only), let the right people approve, and the export of the new tenant equals the first one apart from
`instance_specific`."""
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from audit.actors import SYSTEM
from automations.choices import ChangeKind, ChangeState, RiskTier, UseCaseStatus
from automations.models import ChangeRequest
from automations.registry import selectors
from automations.registry.services import changes, use_cases, versions
from automations.registry.services.registry_io import (
    INSTANCE_SPECIFIC,
    registry_export,
    registry_import,
    without_instance_specific,
)
from portal import services as portal_services
from portal.choices import Role
from tests.automations.factories import approve_all, evaluate_release, make_use_case

pytestmark = pytest.mark.django_db


def _propose_and_approve(team, tenant, kind, payload, use_case=None):
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, use_case=use_case, kind=kind,
                                       title=str(kind), description="set up", payload=payload)
    return approve_all(cr, team)


def build_registry(tenant, team):
    """A registry with something of everything: controller details, a changed control setting, a processor
    and a connector, a live use case with pilot and production on different releases, and a draft use case
    with a draft version."""
    lead = team["automation_lead"]
    use_cases.tenant_policy_update_details(actor=lead, tenant=tenant, reason="setup", values={
        "controller_name": "Muster GmbH", "dsb_contact": "datenschutz@muster.example",
        "technical_measures": "TLS, Rollen, Protokoll"})
    _propose_and_approve(team, tenant, ChangeKind.TENANT_POLICY, {"sample_check_share": "0.1"})
    _propose_and_approve(team, tenant, ChangeKind.CATALOGUE, {"key": "eu-llm", "fields": {
        "kind": "processor", "name": "EU-LLM", "location": "Frankfurt", "approved_categories": ["contact"],
        "settings": {"model": "mistral-small"}}})
    _propose_and_approve(team, tenant, ChangeKind.CATALOGUE, {"key": "erp", "fields": {
        "kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": "ERP-Schnittstelle",
        "method": "erp-api", "endpoint": "https://erp.muster.example/hooks"}})
    entries = list(selectors.catalogue_list(tenant=tenant))
    live = make_use_case(
        tenant, lead, key="tickets", department="Kundenservice", department_owner=team["department_owner"],
        input_fields=[{"name": "body", "type": "long_text", "required": True},
                      {"name": "email", "type": "email", "personal_data": True, "category": "contact",
                       "send_to_model": False}],
        output_fields=[{"name": "queue", "type": "category", "choices": ["a", "b"], "required": True}],
        data_subjects=["Kunden"], catalogue_entries=entries, risk_tier=RiskTier.LIMITED,
        quality_targets={"min_precision": {"queue": 0.9}})

    def submitted(kind, content, note=""):
        version = versions.version_create(actor=lead, use_case=live, kind=kind, content=content, change_note=note)
        return versions.version_submit(actor=lead, version=version)

    t1 = submitted("threshold_set", {"thresholds": {"queue": {"auto": 0.9, "reject": 0.3}}}, "first")
    t2 = submitted("threshold_set", {"thresholds": {"queue": {"auto": 0.95, "reject": 0.3}}}, "stricter")
    engine = submitted("engine_config", {"engine": "rules", "fields": ["queue"], "parameters": {"rules": []}})
    prompt = submitted("prompt_template", {"template": "Ticket: {{ body }}", "declared_fields": ["body"],
                                           "processor_key": "eu-llm", "output_field": "queue"})
    guard = submitted("guardrail_set", {"forbidden_phrases": ["garantieren"], "max_length": 800})
    r1 = versions.release_create(actor=lead, use_case=live, threshold_set=t1, engine_configs=[engine], note="R1")
    r2 = versions.release_create(actor=lead, use_case=live, threshold_set=t2, engine_configs=[engine],
                                 prompt_template=prompt, guardrail_set=guard, note="R2")
    evaluate_release(r1, lead)  # the production label needs a passing evaluation of R1
    _propose_and_approve(team, tenant, ChangeKind.LABEL_MOVE, {"label": "production", "release_id": r1.pk}, live)
    _propose_and_approve(team, tenant, ChangeKind.STATUS_CHANGE, {"to": "production"}, live)
    _propose_and_approve(team, tenant, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": r2.pk}, live)
    draft = make_use_case(tenant, lead, key="entwurf", department="Einkauf")
    versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=draft, kind="threshold_set",
        content={"thresholds": {"category": {"auto": 1, "reject": 0}}}))
    versions.version_create(actor=lead, use_case=draft, kind="engine_config",
                            content={"engine": "rules", "fields": ["category"]}, change_note="in Arbeit")


@pytest.fixture
def target(make_tenant, team):
    """An empty tenant in which the same people hold the same roles."""
    tenant = make_tenant("ziel", "Ziel GmbH")
    for user in team.values():
        roles = next(m.roles for m in user.memberships.all())
        portal_services.membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=roles)
    return tenant


def approve_everything_open(tenant, team) -> int:
    """The right people approve every open request of the tenant; returns how many."""
    open_requests = list(selectors.change_request_list(tenant=tenant, state=ChangeState.OPEN))
    for cr in open_requests:
        approve_all(cr, team)
    return len(open_requests)


def test_export_lists_instance_specific_fields_apart(tenant, team):
    build_registry(tenant, team)
    data = registry_export(tenant=tenant)
    text = json.dumps(without_instance_specific(data))
    for marker in ('"id"', '"created_at"', '"author"', '"submitted_at"', '"moved_at"', '"muster"'):
        assert marker not in text
    about = data[INSTANCE_SPECIFIC]
    assert about["tenant"]["slug"] == "muster"
    assert about["use_cases"]["tickets"]["versions"]["threshold_set"]["2"]["author"] == "automation_lead"
    tickets = next(u for u in data["use_cases"] if u["key"] == "tickets")
    assert tickets["labels"] == {"pilot": 2, "production": 1}
    assert tickets["documentation"]["catalogue_entries"] == ["erp", "eu-llm"]
    assert tickets["documentation"]["department_owner"] == "department_owner"
    assert [r["engine_configs"] for r in tickets["releases"]] == [[1], [1]]
    assert data["policy"]["controls"]["sample_check_share"] == "0.1"


def test_round_trip_through_an_empty_tenant(tenant, team, target):
    build_registry(tenant, team)
    source = registry_export(tenant=tenant)
    lead = team["automation_lead"]

    first = registry_import(actor=lead, tenant=target, data=source)
    # Nothing runs and nothing is approved: drafts, versions, releases and proposals only.
    assert {u.key: u.status for u in selectors.use_case_list(tenant=target)} == {"entwurf": "draft", "tickets": "draft"}
    assert not selectors.catalogue_list(tenant=target).exists()
    assert selectors.tenant_policy_get(tenant=target).sample_check_share != 0.1
    tickets = selectors.use_case_get(tenant=target, key="tickets")
    assert selectors.label_map(use_case=tickets) == {}
    kinds = sorted(cr["kind"] for cr in first.proposed)
    assert kinds == ["catalogue", "catalogue", "label_move", "tenant_policy"]  # the pilot label
    assert any("catalogue entries not approved" in line for line in first.waiting)
    # Evaluations are evidence of their instance and do not travel: here R1 is evaluated anew.
    assert any("production label waits for a passing evaluation of R1" in line for line in first.waiting)
    evaluate_release(selectors.release_get(use_case=tickets, number=1), lead)
    assert all(cr.author == lead for cr in ChangeRequest.objects.filter(tenant=target))

    rounds = 0
    report = first
    while not report.in_sync:
        rounds += 1
        assert rounds <= 4, report.as_dict()
        assert not report.errors and not report.conflicts, report.as_dict()
        approve_everything_open(target, team)
        report = registry_import(actor=lead, tenant=target, data=source)
    # catalogue, controls and the pilot label first; then the production label and the draft's entries; then the
    # status
    assert rounds == 3

    again = registry_export(tenant=target)
    assert without_instance_specific(again) == without_instance_specific(source)
    assert again[INSTANCE_SPECIFIC]["tenant"]["slug"] == "ziel"
    assert selectors.use_case_get(tenant=target, key="tickets").status == UseCaseStatus.PRODUCTION


def test_importing_twice_proposes_each_change_once(tenant, team, target):
    build_registry(tenant, team)
    source = registry_export(tenant=tenant)
    first = registry_import(actor=team["automation_lead"], tenant=target, data=source)
    second = registry_import(actor=team["automation_lead"], tenant=target, data=source)
    assert second.proposed == [] and second.created == []
    assert sorted(cr["id"] for cr in second.pending) == sorted(cr["id"] for cr in first.proposed)


def test_a_differing_version_is_reported_not_overwritten(tenant, team, target):
    build_registry(tenant, team)
    source = registry_export(tenant=tenant)
    lead = team["automation_lead"]
    registry_import(actor=lead, tenant=target, data=source)
    entry = next(u for u in source["use_cases"] if u["key"] == "tickets")
    entry["versions"]["threshold_set"][0]["content"] = {"thresholds": {"queue": {"auto": 0.5, "reject": 0.1}}}
    entry["versions"]["threshold_set"][0]["content_hash"] = "0" * 64
    report = registry_import(actor=lead, tenant=target, data=source)
    assert any("threshold_set v1 differs" in line for line in report.conflicts)


def test_only_the_core_team_imports(tenant, team, target):
    build_registry(tenant, team)
    source = registry_export(tenant=tenant)
    with pytest.raises(PermissionDenied):
        registry_import(actor=team[Role.SECURITY_OFFICER], tenant=target, data=source)
    assert not selectors.use_case_list(tenant=target).exists()
    with pytest.raises(ValidationError):
        registry_import(actor=team["automation_lead"], tenant=target, data={"format": "something else"})


def test_commands_write_and_read_the_file(tenant, team, target, tmp_path, capsys):
    build_registry(tenant, team)
    path = tmp_path / "registry.json"
    call_command("export_registry", "--tenant", "muster", "--output", str(path))
    assert json.loads(path.read_text())["use_cases"][0]["key"] == "entwurf"
    call_command("import_registry", str(path), "--tenant", "ziel", "--actor", "automation_lead")
    out = capsys.readouterr().out
    assert "Change requests proposed" in out and "Not yet in sync" in out
    assert selectors.use_case_get(tenant=target, key="tickets").status == UseCaseStatus.DRAFT


def test_people_who_are_no_members_here_are_reported_not_cleared(tenant, team, make_tenant):
    build_registry(tenant, team)
    source = registry_export(tenant=tenant)
    lonely = make_tenant("allein", "Allein GmbH")
    lead = team["automation_lead"]
    portal_services.membership_create(actor=SYSTEM, tenant=lonely, user=lead, roles=[Role.AUTOMATION_LEAD])
    report = registry_import(actor=lead, tenant=lonely, data=source)
    assert any("department_owner is no member" in line for line in report.conflicts)
    assert selectors.use_case_get(tenant=lonely, key="tickets").department_owner is None
