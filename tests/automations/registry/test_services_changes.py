import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.actors import Actor
from automations.choices import ChangeKind, ChangeState, RiskTier, UseCaseStatus
from automations.models import ReleaseLabel
from automations.registry.selectors import active_release_label, change_request_inbox
from automations.registry.services import changes
from portal import services as portal_services
from portal.choices import Role
from tests.automations.factories import (
    approve_all,
    evaluate_release,
    go_live,
    make_release,
    make_use_case,
)

pytestmark = pytest.mark.django_db


def _propose(team, use_case, kind, payload, author="automation_lead"):
    return changes.change_request_create(actor=team[author], tenant=use_case.tenant, use_case=use_case, kind=kind,
                                         title="t", description="why", payload=payload)


@pytest.mark.parametrize("flags,expected", [
    ({}, {"department_owner", "automation_lead"}),
    ({"output_fields": [{"name": "iban", "type": "iban", "personal_data": True, "category": "bank"}]},
     {"department_owner", "automation_lead", "data_protection_officer"}),
    ({"data_subjects": ["suppliers"]}, {"department_owner", "automation_lead", "data_protection_officer"}),
    ({"affects_employees": True}, {"department_owner", "automation_lead", "works_council"}),
    ({"affects_employees": True, "data_subjects": ["employees"]},
     {"department_owner", "automation_lead", "works_council", "data_protection_officer"}),
    ({"risk_tier": RiskTier.HIGH},
     {"department_owner", "automation_lead", "works_council", "data_protection_officer", "security_officer"}),
])
def test_required_approvers_follow_the_use_case(tenant, team, flags, expected):
    use_case = make_use_case(tenant, team["automation_lead"], **flags)
    release = make_release(use_case, team["automation_lead"])
    cr = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    assert set(cr.required_roles) == expected
    assert not cr.is_standard


def test_new_processor_needs_the_security_officer(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"])
    cat = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                        title="LLM", description="EU provider",
                                        payload={"key": "eu-llm", "fields": {"kind": "processor", "name": "EU LLM"}})
    assert set(cat.required_roles) == {"automation_lead", "security_officer"}
    approve_all(cat, team)
    doc = _propose(team, use_case, ChangeKind.DOCUMENTATION, {"changes": {"catalogue_entries": ["eu-llm"]}})
    assert "security_officer" in doc.required_roles


def test_full_four_eyes_flow_takes_a_use_case_live(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], data_subjects=["suppliers"])
    release = go_live(use_case, team)
    assert use_case.status == UseCaseStatus.PRODUCTION
    label = active_release_label(tenant=tenant, use_case_key=use_case.key)
    assert label.release == release and label.name == "production"


def test_author_cannot_approve_own_change(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"])
    release = make_release(use_case, team["automation_lead"])
    cr = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    with pytest.raises(PermissionDenied):
        changes.change_request_approve(actor=team["automation_lead"], change_request=cr, role="automation_lead")
    changes.change_request_approve(actor=team["automation_lead_2"], change_request=cr, role="automation_lead")


def test_one_person_cannot_fill_two_roles_unless_the_tenant_allows_it(tenant, team, member):
    both = member(Role.AUTOMATION_LEAD, Role.DEPARTMENT_OWNER, username="both")
    use_case = make_use_case(tenant, team["automation_lead"], department_owner=both)
    release = make_release(use_case, team["automation_lead"])
    cr = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    changes.change_request_approve(actor=both, change_request=cr, role="automation_lead")
    with pytest.raises(PermissionDenied):
        changes.change_request_approve(actor=both, change_request=cr, role="department_owner")
    assert cr not in change_request_inbox(tenant=tenant, user=both)

    policy_cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant,
                                              kind=ChangeKind.TENANT_POLICY, title="dual",
                                              description="small team", payload={"allow_dual_role": True})
    approve_all(policy_cr, team)
    changes.change_request_approve(actor=both, change_request=cr, role="department_owner")
    cr.refresh_from_db()
    assert cr.state == ChangeState.APPLIED


def test_approver_needs_the_role(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"])
    release = make_release(use_case, team["automation_lead"])
    cr = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    with pytest.raises(PermissionDenied):
        changes.change_request_approve(actor=team["clerk"], change_request=cr, role="department_owner")


def test_api_tokens_propose_but_never_approve(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], department_owner=team["department_owner"])
    release = make_release(use_case, team["automation_lead"])
    token, _plain = portal_services.api_token_create(actor=team["department_owner"], tenant=tenant,
                                                    user=team["department_owner"], name="ci")
    via_token = Actor(user=team["department_owner"], token=token)
    cr = changes.change_request_create(actor=via_token, tenant=tenant, use_case=use_case,
                                       kind=ChangeKind.LABEL_MOVE, title="t", description="from CI",
                                       payload={"label": "pilot", "release_id": release.pk})
    assert cr.proposed_via_token == token
    owner_token, _ = portal_services.api_token_create(actor=team["automation_lead_2"], tenant=tenant,
                                                      user=team["automation_lead_2"], name="x")
    with pytest.raises(PermissionDenied):
        changes.change_request_approve(actor=Actor(user=team["automation_lead_2"], token=owner_token),
                                       change_request=cr, role="automation_lead")


def test_rejected_request_is_kept_and_changes_nothing(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], department_owner=team["department_owner"])
    release = make_release(use_case, team["automation_lead"])
    cr = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    changes.change_request_reject(actor=team["department_owner"], change_request=cr, role="department_owner",
                                  comment="not tested yet")
    cr.refresh_from_db()
    assert cr.state == ChangeState.REJECTED
    assert not ReleaseLabel.objects.filter(use_case=use_case).exists()
    with pytest.raises(ValidationError):
        changes.change_request_approve(actor=team["automation_lead_2"], change_request=cr, role="automation_lead")


def test_small_threshold_move_is_a_standard_change(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"])
    go_live(use_case, team)
    lead = team["automation_lead"]
    current = active_release_label(tenant=tenant, use_case_key=use_case.key).release
    from automations.registry.services import versions

    def release_with(auto):
        t = versions.version_create(actor=lead, use_case=use_case, kind="threshold_set",
                                    content={"thresholds": {"category": {"auto": auto, "reject": 0.3}}})
        t = versions.version_submit(actor=lead, version=t)
        release = versions.release_create(actor=lead, use_case=use_case, threshold_set=t,
                                          engine_configs=list(current.engine_configs.all()))
        evaluate_release(release, lead)
        return release

    small = _propose(team, use_case, ChangeKind.LABEL_MOVE,
                     {"label": "production", "release_id": release_with(0.94).pk})
    assert small.is_standard and small.required_roles == ["automation_lead"]
    big = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "production", "release_id": release_with(0.7).pk})
    assert not big.is_standard and "department_owner" in big.required_roles


def test_prohibited_use_case_can_never_be_activated(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], risk_tier=RiskTier.PROHIBITED)
    release = make_release(use_case, team["automation_lead"])
    approve_all(_propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk}), team)
    with pytest.raises(ValidationError, match="prohibited"):
        _propose(team, use_case, ChangeKind.STATUS_CHANGE, {"to": "pilot"})


def test_high_risk_needs_dpia_and_worker_information_before_production(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"], risk_tier=RiskTier.HIGH, risk_rationale="Annex III")
    release = make_release(use_case, team["automation_lead"])
    evaluate_release(release, team["automation_lead"])
    approve_all(_propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "production", "release_id": release.pk}),
                team)
    with pytest.raises(ValidationError, match="DPIA"):
        _propose(team, use_case, ChangeKind.STATUS_CHANGE, {"to": "production"})


def test_approvers_are_notified_by_email(tenant, team, django_capture_on_commit_callbacks):
    team["department_owner"].email = "fachbereich@muster.example"
    team["department_owner"].save()
    use_case = make_use_case(tenant, team["automation_lead"])
    release = make_release(use_case, team["automation_lead"])
    with django_capture_on_commit_callbacks(execute=True):
        _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    assert [m.to for m in mail.outbox] == [["fachbereich@muster.example"]]


def test_expired_requests_are_kept_as_expired(tenant, team):
    from datetime import timedelta

    from django.utils import timezone

    use_case = make_use_case(tenant, team["automation_lead"])
    release = make_release(use_case, team["automation_lead"])
    cr = _propose(team, use_case, ChangeKind.LABEL_MOVE, {"label": "pilot", "release_id": release.pk})
    assert changes.change_requests_expire(now=timezone.now() + timedelta(days=31)) == 1
    cr.refresh_from_db()
    assert cr.state == ChangeState.EXPIRED


@pytest.mark.parametrize("payload", [{"works_agreement_reference": "BV 2026/03 KI-Assistenz"}, {"min_group_size": 2}])
def test_works_agreement_and_group_size_change_only_with_the_works_council(tenant, team, payload):
    from automations.registry.selectors import tenant_policy_get

    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, kind=ChangeKind.TENANT_POLICY,
                                       title="Kennzahlen je Person", description="BV unterschrieben", payload=payload)
    assert set(cr.required_roles) == {"automation_lead", "data_protection_officer", "security_officer",
                                      "works_council"}
    cr = approve_all(cr, team, skip=("works_council",))
    assert cr.state == ChangeState.OPEN
    name, value = next(iter(payload.items()))
    assert getattr(tenant_policy_get(tenant=tenant), name) != value
    cr = changes.change_request_approve(actor=team["works_council"], change_request=cr, role="works_council")
    assert cr.state == ChangeState.APPLIED
    assert getattr(tenant_policy_get(tenant=tenant), name) == value


def test_other_control_settings_do_not_wait_for_the_works_council(tenant, team):
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, kind=ChangeKind.TENANT_POLICY,
                                       title="Stichprobe", description="mehr", payload={"sample_check_share": "0.1"})
    assert "works_council" not in cr.required_roles
