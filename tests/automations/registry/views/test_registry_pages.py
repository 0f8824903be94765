"""What the core team sees and does on the registry pages: filtering the list, documenting and editing,
versions and their differences, releases, proposing changes, the kill switch, the history and the
Verfahrensdokumentation (HTML and PDF)."""
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.actors import SYSTEM
from automations.choices import ChangeKind, ChangeState, RiskTier, UseCaseStatus
from automations.models import UseCase
from automations.registry import selectors
from automations.registry.services import versions
from tests.automations.factories import evaluate_release, go_live, make_use_case
from tests.automations.registry.views.forms_data import use_case_form_data

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


# --- list --------------------------------------------------------------------------------------------

def test_list_filters_by_status_risk_department_and_review_due(tenant, team, login):
    lead = team["automation_lead"]
    live = make_use_case(tenant, lead, key="rechnungen", department="Buchhaltung",
                         department_owner=team["department_owner"])
    go_live(live, team)
    make_use_case(tenant, lead, key="bewerbungen", department="Personal", risk_tier=RiskTier.HIGH)
    overdue = make_use_case(tenant, lead, key="mahnungen", department="Buchhaltung", review_interval_days=1)
    UseCase.objects.filter(pk=overdue.pk).update(created_at=timezone.now() - timedelta(days=3))
    client = login(team["auditor"], tenant)
    url = reverse("automations:use-case-list")

    def shown(**params):
        page = _text(client.get(url, params))
        return {key for key in ("rechnungen", "bewerbungen", "mahnungen") if f"/registry/{key}/" in page}

    assert shown() == {"rechnungen", "bewerbungen", "mahnungen"}
    assert shown(status="production") == {"rechnungen"}
    assert shown(risk_tier="high") == {"bewerbungen"}
    assert shown(department="Buchhaltung") == {"rechnungen", "mahnungen"}
    assert shown(review_due="1") == {"mahnungen"}
    assert shown(department="Buchhaltung", status="draft") == {"mahnungen"}


# --- documenting -------------------------------------------------------------------------------------

def test_documenting_a_use_case_with_repeating_field_rows(tenant, team, login):
    client = login(team["department_owner"], tenant)
    data = use_case_form_data(tenant, key="tickets", title="Service-Tickets", purpose="Tickets vorsortieren",
                              department_owner="department_owner", risk_tier="limited", data_subjects="Kunden\nPartner")
    data.update({
        "input-0-name": "body", "input-0-type": "long_text", "input-0-required": "on", "input-0-send_to_model": "on",
        "input-1-name": "email", "input-1-type": "email", "input-1-personal_data": "on", "input-1-category": "contact",
        "output-0-name": "queue", "output-0-type": "category", "output-0-choices": "technik, rechnung",
        "output-0-send_to_model": "on", "output-0-required": "on",
        "integration-0-kind": "email", "integration-0-system": "service@",
    })
    del data["input-1-send_to_model"]  # unticked: the e-mail address never reaches a model
    response = client.post(reverse("automations:use-case-create"), data)
    assert response.status_code == 302
    use_case = selectors.use_case_get(tenant=tenant, key="tickets")
    assert use_case.status == UseCaseStatus.DRAFT
    assert use_case.input_fields == [
        {"name": "body", "type": "long_text", "required": True},
        {"name": "email", "type": "email", "required": False, "send_to_model": False, "personal_data": True,
         "category": "contact"}]
    assert use_case.output_fields == [{"name": "queue", "type": "category", "required": True,
                                       "choices": ["technik", "rechnung"]}]
    assert use_case.integration_points == [{"kind": "email", "system": "service@"}]
    assert use_case.data_subjects == ["Kunden", "Partner"]
    assert use_case.department_owner == team["department_owner"]
    page = _text(client.get(response["Location"]))
    assert "Service-Tickets" in page and "service@" in page and "Kontaktdaten" in page


def test_invalid_documentation_is_shown_beside_the_form(tenant, team, login):
    client = login(team["automation_lead"], tenant)
    data = use_case_form_data(tenant, key="new", title="X", purpose="Y")
    data.update({"input-0-name": "email", "input-0-type": "email", "input-0-personal_data": "on",
                 "output-0-name": "a", "output-1-name": "a", "min_precision": "queue: 1.5"})
    response = client.post(reverse("automations:use-case-create"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert "key" in form.errors  # a key reserved for a registry page
    assert "min_precision" in form.errors
    assert form.input_formset.forms[0].errors["category"]
    assert form.output_formset.non_form_errors()
    assert not UseCase.objects.filter(tenant=tenant).exists()


def test_a_service_refusal_is_shown_as_a_form_error(tenant, team, login):
    """Field names that are not identifiers pass the form but not the registry's own rules."""
    client = login(team["automation_lead"], tenant)
    data = use_case_form_data(tenant, key="belege", title="Belege", purpose="Sortieren")
    data.update({"output-0-name": "document class", "output-0-type": "category"})
    response = client.post(reverse("automations:use-case-create"), data)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not UseCase.objects.filter(tenant=tenant).exists()


def test_editing_a_draft_saves_directly_with_the_reason_in_the_history(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    data = use_case_form_data(tenant, use_case, department="Poststelle", reason="Zuständigkeit geklärt")
    response = client.post(reverse("automations:use-case-update", args=["belege"]), data)
    assert response.status_code == 302
    use_case.refresh_from_db()
    assert use_case.department == "Poststelle"
    history = _text(client.get(reverse("automations:use-case-history", args=["belege"])))
    assert "Zuständigkeit geklärt" in history and "automation_lead" in history and "Poststelle" in history


def test_unchanged_form_changes_nothing(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    response = client.post(reverse("automations:use-case-update", args=["belege"]),
                           use_case_form_data(tenant, use_case, reason="nichts"))
    assert response.status_code == 400
    assert use_case.history.count() == 1


def test_editing_a_live_use_case_proposes_a_documentation_change(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"])
    go_live(use_case, team)
    client = login(team["it_operator"], tenant)
    data = use_case_form_data(tenant, use_case, purpose="Belege nach Art und Dringlichkeit sortieren",
                              **{"change-title": "Zweck erweitern", "change-description": "Dringlichkeit kommt hinzu."})
    response = client.post(reverse("automations:use-case-update", args=["belege"]), data)
    assert response.status_code == 302
    cr = selectors.change_request_list(tenant=tenant, use_case=use_case, state=ChangeState.OPEN).get()
    assert cr.kind == ChangeKind.DOCUMENTATION
    assert cr.payload == {"changes": {"purpose": "Belege nach Art und Dringlichkeit sortieren"}}
    use_case.refresh_from_db()
    assert use_case.purpose == "Sort incoming documents."


# --- versions, differences, releases ---------------------------------------------------------------------

def test_version_created_and_submitted_then_frozen(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    url = reverse("automations:version-create", args=["belege", "prompt_template"])
    response = client.post(url, {"template": "Beleg: {{ text }}", "declared_fields": ["text"],
                                 "confidence_mode": "fixed", "fixed_confidence": "0.5", "parameters": "{}",
                                 "output_schema": '{"type": "object"}', "change_note": "erste Fassung"})
    assert response.status_code == 302
    version = selectors.version_get(use_case=use_case, kind="prompt_template", number=1)
    assert not version.is_frozen and version.output_schema == {"type": "object"}

    other = login(team["automation_lead_2"], tenant)
    submit = reverse("automations:version-submit", args=["belege", "prompt_template", 1])
    other.post(submit)
    version.refresh_from_db()
    assert not version.is_frozen  # only the author submits

    client = login(team["automation_lead"], tenant)
    client.post(submit)
    version.refresh_from_db()
    assert version.is_frozen
    assert "Beleg: {{ text }}" in _text(client.get(reverse("automations:version-detail",
                                                           args=["belege", "prompt_template", 1])))


def test_version_form_shows_json_and_rule_errors(tenant, team, login):
    make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    url = reverse("automations:version-create", args=["belege", "prompt_template"])
    response = client.post(url, {"template": "x", "confidence_mode": "fixed", "fixed_confidence": "0.5",
                                 "parameters": "{kaputt", "output_schema": "{}"})
    assert response.status_code == 400 and "parameters" in response.context["form"].errors
    response = client.post(url, {"template": "Hallo {{ iban }}", "confidence_mode": "fixed",
                                 "fixed_confidence": "0.5", "parameters": "{}", "output_schema": "{}"})
    assert response.status_code == 400
    assert "iban" in " ".join(response.context["form"].non_field_errors())


def test_difference_between_two_versions_shows_the_changed_lines(tenant, team, login):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key="belege")
    for phrases in (["garantieren"], ["garantieren", "rechtsverbindlich"]):
        versions.version_create(actor=lead, use_case=use_case, kind="guardrail_set",
                                content={"forbidden_phrases": phrases, "max_length": 500})
    client = login(team["auditor"], tenant)
    response = client.get(reverse("automations:version-diff", args=["belege", "guardrail_set"]), {"a": 1, "b": 2})
    assert response.status_code == 200
    rows = response.context["rows"]
    changed = [(row.tag, row.left.strip(), row.right.strip()) for row in rows if row.tag != "equal"]
    assert changed == [("insert", "", "rechtsverbindlich")]  # one phrase a line, under the item's name
    assert any(row.tag == "equal" and row.left == "Maximale Länge (Zeichen): 500" for row in rows)
    page = _text(response)
    assert '<tr class="diff-insert">' in page and "rechtsverbindlich" in page
    same = client.get(reverse("automations:version-diff", args=["belege", "guardrail_set"]), {"a": 2, "b": 2})
    assert not same.context["changed"]


def test_bundling_a_release_and_requesting_production(tenant, team, login):
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key="belege", department_owner=team["department_owner"])
    for kind, content in (("threshold_set", {"thresholds": {"category": {"auto": 0.9, "reject": 0.2}}}),
                          ("engine_config", {"engine": "rules", "fields": ["category"]})):
        versions.version_submit(actor=lead, version=versions.version_create(actor=lead, use_case=use_case, kind=kind,
                                                                            content=content))
    versions.version_create(actor=lead, use_case=use_case, kind="guardrail_set", content={})  # a draft
    client = login(lead, tenant)
    form = client.get(reverse("automations:release-create", args=["belege"])).context["form"]
    assert form.fields["guardrail_set"].choices == [("", "—")]  # drafts are not offered
    response = client.post(reverse("automations:release-create", args=["belege"]),
                           {"threshold_set": "1", "engine_configs": ["1"], "note": "erste"})
    assert response.status_code == 302
    release = selectors.release_get(use_case=use_case, number=1)
    evaluate_release(release, lead)  # the evidence production needs
    response = client.post(reverse("automations:label-move-create", args=["belege"]),
                           {"label": "production", "release": "1", "title": "R1 produktiv",
                            "description": "Im Test bewährt."})
    cr = selectors.change_request_list(tenant=tenant, state=ChangeState.OPEN).get()
    assert response["Location"] == reverse("automations:change-request-detail", args=[cr.pk])
    assert cr.payload == {"label": "production", "release_id": release.pk}
    assert set(cr.required_roles) == {"department_owner", "automation_lead"}


def test_status_change_to_production_without_a_label_is_refused_with_the_reason(tenant, team, login):
    make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    response = client.post(reverse("automations:status-change-create", args=["belege"]),
                           {"to": "production", "title": "live", "description": "los"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors  # production is not even offered while its label points at no release
    assert "production" not in {value for value, _label in form.fields["to"].choices}
    assert not selectors.change_request_list(tenant=tenant).exists()


def test_catalogue_and_policy_changes_are_proposed_not_applied(tenant, team, login):
    client = login(team["it_operator"], tenant)
    client.post(reverse("automations:catalogue-change"), {
        "key": "sftp-dms", "kind": "connector", "connector_type": "file_drop", "direction": "delivery",
        "name": "DMS über SFTP", "transfer_basis": "on_premises", "endpoint": "/srv/dms/eingang",
        "settings": '{"folder": "/eingang"}', "is_active": "on", "title": "DMS anbinden", "description": "Posteingang"})
    client.post(reverse("automations:tenant-policy-change"), {
        "allow_dual_role": "on", "standard_change_kinds": ["threshold_small_move"], "standard_threshold_delta": "0.05",
        "sample_check_share": "0.05", "title": "Doppelrolle", "description": "Kleines Team"})
    kinds = {cr.kind: cr for cr in selectors.change_request_list(tenant=tenant)}
    assert kinds["catalogue"].payload["fields"]["settings"] == {"folder": "/eingang"}
    assert kinds["tenant_policy"].payload == {"allow_dual_role": True}
    assert not selectors.catalogue_list(tenant=tenant).exists()
    assert not selectors.tenant_policy_get(tenant=tenant).allow_dual_role
    page = _text(client.get(reverse("automations:catalogue")))
    assert "DMS anbinden" in page


# --- kill switch ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["security_officer", "data_protection_officer", "department_owner"])
def test_suspend_takes_effect_at_once(tenant, team, login, role):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"])
    go_live(use_case, team)
    client = login(team[role], tenant)
    response = client.post(reverse("automations:use-case-suspend", args=["belege"]), {"reason": "Falsche Zuordnungen"})
    assert response.status_code == 302
    use_case.refresh_from_db()
    assert use_case.status == UseCaseStatus.SUSPENDED
    assert selectors.active_release_label(tenant=tenant, use_case_key="belege") is None
    assert use_case.history.first().history_change_reason == "Falsche Zuordnungen"


def test_suspend_needs_a_reason_and_a_running_use_case(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["automation_lead"], tenant)
    assert client.post(reverse("automations:use-case-suspend", args=["belege"]), {"reason": ""}).status_code == 400
    response = client.post(reverse("automations:use-case-suspend", args=["belege"]), {"reason": "Test"})
    assert response.status_code == 400  # a draft is not running
    use_case.refresh_from_db()
    assert use_case.status == UseCaseStatus.DRAFT


# --- Verfahrensdokumentation --------------------------------------------------------------------------------

def test_procedure_document_names_the_exact_versions_and_approvers(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"],
                             data_subjects=["Lieferanten"])
    release = go_live(use_case, team)
    client = login(team["auditor"], tenant)
    page = _text(client.get(reverse("automations:procedure-document", args=["belege"])))
    assert "Belege" in page and release.content_hash in page
    for name in ("automation_lead_2", "department_owner", "data_protection_officer"):
        assert name in page
    assert release.threshold_set.content_hash[:16] in page

    pdf = client.get(reverse("automations:procedure-document-pdf", args=["belege"]))
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Belege" in text
    for name in ("automation_lead_2", "department_owner", "data_protection_officer"):
        assert name in text
    assert reader.metadata.title.endswith("Belege")


def test_saving_keeps_an_owner_who_left_the_tenant(tenant, team, login):
    from portal import services as portal_services

    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"])
    portal_services.membership_deactivate(actor=SYSTEM, membership=team["department_owner"].memberships.get(),
                                          reason="Austritt")
    client = login(team["automation_lead"], tenant)
    response = client.post(reverse("automations:use-case-update", args=["belege"]),
                           use_case_form_data(tenant, use_case, department="Poststelle", reason="umbenannt"))
    assert response.status_code == 302
    use_case.refresh_from_db()
    assert use_case.department == "Poststelle" and use_case.department_owner == team["department_owner"]


@pytest.mark.parametrize("field,value", [("works_agreement_reference", "BV 2026/03"), ("min_group_size", "2")])
def test_policy_edit_does_not_change_works_agreement_or_group_size(tenant, team, login, field, value):
    """Both switch on figures per person: POST /registry/policy/edit/ refuses them; the change request
    form proposes them, and the request waits for the works council."""
    client = login(team["data_protection_officer"], tenant)
    response = client.post(reverse("automations:tenant-policy-update"), {
        "controller_name": "Muster GmbH", "data_categories": "contact\nbank", "change_request_expiry_days": "30",
        field: value, "reason": "Kennzahlen je Person"})
    assert response.status_code == 400
    assert "nur über einen Änderungsantrag" in _text(response)
    policy = selectors.tenant_policy_get(tenant=tenant)
    assert policy.works_agreement_reference == "" and policy.min_group_size == 5
    assert policy.controller_name == ""

    lead = login(team["automation_lead"], tenant)
    response = lead.post(reverse("automations:tenant-policy-change"), {
        "standard_change_kinds": ["threshold_small_move"], "standard_threshold_delta": "0.05",
        "sample_check_share": "0.05", field: value, "title": "Kennzahlen", "description": "BV unterschrieben"})
    assert response.status_code == 302
    cr = selectors.change_request_list(tenant=tenant).get()
    assert cr.kind == ChangeKind.TENANT_POLICY and "works_council" in cr.required_roles
    assert str(cr.payload[field]) == value
    assert getattr(selectors.tenant_policy_get(tenant=tenant), field) in ("", 5)


def test_tenant_details_are_edited_directly_and_shown_in_the_procedure_document(tenant, team, login):
    use_case = make_use_case(tenant, team["automation_lead"], key="belege")
    client = login(team["data_protection_officer"], tenant)
    response = client.post(reverse("automations:tenant-policy-update"), {
        "controller_name": "Muster GmbH", "dsb_contact": "datenschutz@muster.example",
        "data_categories": "contact\nbank\nhealth", "min_group_size": "5", "change_request_expiry_days": "30",
        "reason": "Angaben für das Verzeichnis"})
    assert response.status_code == 302
    policy = selectors.tenant_policy_get(tenant=tenant)
    assert policy.controller_name == "Muster GmbH" and policy.data_categories == ["contact", "bank", "health"]
    assert policy.history.first().history_change_reason == "Angaben für das Verzeichnis"
    page = client.get(reverse("automations:procedure-document", args=[use_case.key])).content.decode()
    assert "datenschutz@muster.example" in page


def test_field_labels_help_and_choice_labels_are_edited_with_the_schema(tenant, team, login):
    client = login(team["department_owner"], tenant)
    data = use_case_form_data(tenant, key="tickets", title="Service-Tickets", purpose="Tickets vorsortieren",
                              department_owner="department_owner", risk_tier="limited")
    data.update({
        "output-0-name": "queue", "output-0-type": "category", "output-0-choices": "technik, rechnung",
        "output-0-label_de": "Warteschlange", "output-0-label_en": "Queue", "output-0-help_de": "Welches Team.",
        "output-0-choice_labels": "technik = Technik | Technical\nrechnung = Rechnung", "output-0-title": "on",
    })
    response = client.post(reverse("automations:use-case-create"), data)
    assert response.status_code == 302
    spec = selectors.use_case_get(tenant=tenant, key="tickets").output_fields[0]
    assert spec["label"] == {"de": "Warteschlange", "en": "Queue"} and spec["help"] == {"de": "Welches Team."}
    assert spec["choice_labels"] == {"technik": {"de": "Technik", "en": "Technical"},
                                     "rechnung": {"de": "Rechnung"}}
    assert spec["title"] is True
    page = _text(client.get(reverse("automations:use-case-update", args=["tickets"])))
    assert "technik = Technik | Technical" in page and 'value="Warteschlange"' in page
    detail = _text(client.get(response["Location"]))
    # The documentation names the field by its label only (the key is the schema form's business).
    assert "Warteschlange" in detail and "(queue)" not in detail and "Technik, Rechnung" in detail


def test_choice_labels_for_unknown_choices_are_refused_beside_the_field(tenant, team, login):
    client = login(team["department_owner"], tenant)
    data = use_case_form_data(tenant, key="tickets", title="Service-Tickets", purpose="Tickets vorsortieren",
                              department_owner="department_owner", risk_tier="limited")
    data.update({"output-0-name": "queue", "output-0-type": "category", "output-0-choices": "technik",
                 "output-0-choice_labels": "vertrieb = Vertrieb"})
    response = client.post(reverse("automations:use-case-create"), data)
    assert response.status_code == 400 or response.status_code == 200
    assert "Nicht unter den Auswahlwerten: vertrieb" in _text(response)
    assert not UseCase.objects.filter(tenant=tenant, key="tickets").exists()
