import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from automations.choices import ChangeKind, UseCaseStatus
from automations.registry.selectors import active_release_label
from automations.registry.services import changes, use_cases, versions
from tests.automations.factories import approve_all, go_live, make_use_case

pytestmark = pytest.mark.django_db


def test_clerk_cannot_document_a_use_case(tenant, team):
    with pytest.raises(PermissionDenied):
        make_use_case(tenant, team["clerk"])


def test_personal_data_field_needs_a_known_category(tenant, team):
    with pytest.raises(ValidationError):
        make_use_case(tenant, team["automation_lead"],
                      output_fields=[{"name": "iban", "type": "iban", "personal_data": True, "category": "astrology"}])


def test_draft_edits_directly_but_production_needs_a_change_request(tenant, team):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead)
    use_cases.use_case_update(actor=lead, use_case=use_case, values={"purpose": "Sort faster."}, reason="clearer")
    go_live(use_case, team)
    with pytest.raises(use_cases.NeedsChangeRequest):
        use_cases.use_case_update(actor=lead, use_case=use_case, values={"purpose": "Other."}, reason="x")
    cr = changes.change_request_create(actor=lead, tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                                       title="purpose", description="wording",
                                       payload={"changes": {"purpose": "Other."}})
    assert cr.diff == [{"item": "purpose", "before": "Sort faster.", "after": "Other."}]
    approve_all(cr, team)
    use_case.refresh_from_db()
    assert use_case.purpose == "Other."
    newest = use_case.history.first()
    assert newest.history_user == team["automation_lead_2"] or newest.history_user in team.values()
    assert newest.history_change_reason.startswith(f"CR-{cr.pk}")


def test_suspend_takes_effect_at_once(tenant, team, django_assert_num_queries):
    use_case = make_use_case(tenant, team["automation_lead"])
    go_live(use_case, team)
    assert active_release_label(tenant=tenant, use_case_key=use_case.key) is not None
    use_cases.use_case_suspend(actor=team["security_officer"], use_case=use_case, reason="incident")
    use_case.refresh_from_db()
    assert use_case.status == UseCaseStatus.SUSPENDED
    with django_assert_num_queries(1):
        assert active_release_label(tenant=tenant, use_case_key=use_case.key) is None


def test_works_council_cannot_suspend(tenant, team):
    use_case = make_use_case(tenant, team["automation_lead"])
    go_live(use_case, team)
    with pytest.raises(PermissionDenied):
        use_cases.use_case_suspend(actor=team["works_council"], use_case=use_case, reason="x")


def test_active_release_lookup_is_one_query(tenant, team, django_assert_num_queries):
    use_case = make_use_case(tenant, team["automation_lead"])
    release = go_live(use_case, team)
    with django_assert_num_queries(1):
        label = active_release_label(tenant=tenant, use_case_key="demo")
        assert (label.release, label.use_case, label.release.threshold_set.thresholds) == (
            release, use_case, release.threshold_set.thresholds)


def test_submitted_version_cannot_change(tenant, team):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead)
    draft = versions.version_create(actor=lead, use_case=use_case, kind="threshold_set",
                                    content={"thresholds": {"category": {"auto": 0.9, "reject": 0.2}}})
    versions.version_revise(actor=lead, version=draft,
                            content={"thresholds": {"category": {"auto": 0.8, "reject": 0.2}}})
    with pytest.raises(PermissionDenied):
        versions.version_revise(actor=team["automation_lead_2"], version=draft, content={})
    draft = versions.version_submit(actor=lead, version=draft)
    with pytest.raises(ValidationError):
        versions.version_revise(actor=lead, version=draft, content={"thresholds": {}})
    if connection.vendor == "postgresql":
        draft.thresholds = {}
        with pytest.raises(IntegrityError), transaction.atomic():
            draft.save()


def test_prompt_may_only_use_declared_input_fields(tenant, team):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, input_fields=[{"name": "subject", "type": "text"},
                                                         {"name": "body", "type": "long_text"}])
    with pytest.raises(ValidationError):
        versions.version_create(actor=lead, use_case=use_case, kind="prompt_template",
                                content={"template": "{{ subject }} {{ body }}", "declared_fields": ["subject"]})
    version = versions.version_create(actor=lead, use_case=use_case, kind="prompt_template",
                                      content={"template": "{{ subject }}", "declared_fields": ["subject"]})
    assert version.number == 1 and len(version.content_hash) == 64


def test_release_bundles_only_submitted_versions(tenant, team):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead)
    draft = versions.version_create(actor=lead, use_case=use_case, kind="threshold_set",
                                    content={"thresholds": {"category": {"auto": 0.9, "reject": 0.2}}})
    config = versions.version_create(actor=lead, use_case=use_case, kind="engine_config",
                                     content={"engine": "rules", "fields": ["category"]})
    config = versions.version_submit(actor=lead, version=config)
    with pytest.raises(ValidationError):
        versions.release_create(actor=lead, use_case=use_case, threshold_set=draft, engine_configs=[config])


def test_weakening_policy_settings_need_a_change_request(tenant, team):
    with pytest.raises(use_cases.NeedsChangeRequest):
        use_cases.tenant_policy_update_details(actor=team["automation_lead"], tenant=tenant,
                                               values={"allow_dual_role": True}, reason="x")
    policy = use_cases.tenant_policy_update_details(actor=team["data_protection_officer"], tenant=tenant,
                                                    values={"dsb_contact": "Datenschutz, Musterstr. 1"}, reason="new")
    assert policy.history.first().history_user == team["data_protection_officer"]


@pytest.mark.parametrize("values", [{"works_agreement_reference": "BV 2026/03"}, {"min_group_size": 2}])
def test_works_agreement_and_group_size_are_no_longer_edited_directly(tenant, team, values):
    """They decide whether figures per person are shown: a change needs the works council."""
    with pytest.raises(use_cases.NeedsChangeRequest):
        use_cases.tenant_policy_update_details(actor=team["data_protection_officer"], tenant=tenant,
                                               values=values, reason="x")
