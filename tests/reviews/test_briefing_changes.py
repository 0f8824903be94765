"""A change that alters what clerks must know, as a process: the author and approvers are warned with the
briefing's difference, the automation lead decides whether clerks confirm again, and once it is live the
clerks are told on their home page and by e-mail and see what changed — without a lock-out unless decided."""
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from automations.choices import ChangeKind, ChangeState
from automations.registry import selectors as registry_selectors
from automations.registry.services import changes
from reviews import selectors, services
from reviews.models import BriefingChange, BriefingConfirmation, BriefingNotice
from tests.access import login
from tests.automations.factories import approve_all, evaluate_release, go_live, make_release, make_team, make_use_case
from tests.reviews.factories import clear

pytestmark = pytest.mark.django_db
FALLBACK = "Beleg an die Poststelle geben und im DMS ablegen"


@pytest.fixture
def live(tenant, member):
    from portal.choices import Role

    team = make_team(member)
    team["clerk_2"] = member(Role.CLERK, username="clerk_2")
    for name in team:
        team[name].email = f"{name}@muster.example"
        team[name].save(update_fields=["email"])
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", department_owner=team["department_owner"],
                             manual_fallback="Beleg manuell ablegen")
    go_live(use_case, team)
    use_case.refresh_from_db()
    clear(team["clerk"], use_case, team["automation_lead"])
    return {"team": team, "use_case": use_case, "tenant": tenant}


def _propose(live, **changed):
    team = live["team"]
    return changes.change_request_create(
        actor=team["it_operator"], tenant=live["tenant"], use_case=live["use_case"], kind=ChangeKind.DOCUMENTATION,
        title="Rückfallverfahren", description="Neue Ablage.", payload={"changes": changed})


def _cleared(live, user) -> bool:
    return live["use_case"].pk in selectors.cleared_use_case_ids(tenant=live["tenant"], user=user)


def test_approvers_are_warned_by_mail_with_what_of_the_briefing_changes(live, mailoutbox,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _propose(live, manual_fallback=FALLBACK)
    approval_mail = next(m for m in mailoutbox if "approval" in m.subject)
    assert "briefing" in approval_mail.body and "fallback" in approval_mail.body
    assert "before: Beleg manuell ablegen" in approval_mail.body and f"now: {FALLBACK}" in approval_mail.body
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _propose(live, purpose="Belege sortieren und ablegen")
    assert all("briefing" not in m.body for m in mailoutbox)


def test_no_reconfirmation_decided_clerks_keep_working_and_are_told(live, mailoutbox,
                                                                     django_capture_on_commit_callbacks):
    team, clerk = live["team"], live["team"]["clerk"]
    assert _cleared(live, clerk)
    cr = _propose(live, manual_fallback=FALLBACK)
    with django_capture_on_commit_callbacks(execute=True):
        for role in cr.required_roles:
            cr = changes.change_request_approve(actor=team[role], change_request=cr, role=role,
                                                briefing_reconfirm=False if role == "automation_lead" else None)
    assert cr.state == ChangeState.APPLIED and cr.briefing_reconfirm is False
    assert _cleared(live, clerk)  # no lock-out
    change = BriefingChange.objects.get(use_case=live["use_case"])
    assert change.change_request == cr and not change.reconfirm_required
    assert change.before["manual_fallback"] == "Beleg manuell ablegen" and change.after["manual_fallback"] == FALLBACK
    notice = BriefingNotice.objects.get(change=change)
    assert notice.user == clerk and notice.read_at is None  # clerk_2 never confirmed: nothing to tell
    carried = BriefingConfirmation.objects.get(user=clerk, carried_by=change)
    assert carried.briefing_hash != BriefingConfirmation.objects.filter(user=clerk, carried_by=None).get().briefing_hash
    mail = next(m for m in mailoutbox if m.to == ["clerk@muster.example"])
    assert live["use_case"].title in mail.subject and FALLBACK in mail.body and "keep working" in mail.body
    event = AuditEvent.objects.get(event_type="briefing.changed")
    assert event.details["reconfirm"] is False and event.details["told"] == 1 and event.details["carried_over"] == 1

    client = login(Client(), clerk, live["tenant"])
    home = client.get(reverse("portal:home")).content.decode()
    assert f'data-briefing-notice="{notice.pk}"' in home
    page = client.get(reverse("reviews:briefing", args=["belege"])).content.decode()
    assert FALLBACK in page and "Beleg manuell ablegen" in page and f"briefing-notice-read-{notice.pk}" in page
    client.post(reverse("reviews:briefing-notice-read", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "data-briefing-notice" not in client.get(reverse("portal:home")).content.decode()
    assert AuditEvent.objects.filter(event_type="briefing.acknowledged").count() == 1


def test_reconfirmation_decided_clerks_confirm_again_and_that_answers_the_notice(live, mailoutbox,
                                                                                 django_capture_on_commit_callbacks):
    team, clerk = live["team"], live["team"]["clerk"]
    cr = _propose(live, manual_fallback=FALLBACK)
    with django_capture_on_commit_callbacks(execute=True):
        for role in cr.required_roles:
            cr = changes.change_request_approve(actor=team[role], change_request=cr, role=role,
                                                briefing_reconfirm=True if role == "automation_lead" else None)
    assert not _cleared(live, clerk)
    notice = BriefingNotice.objects.get(user=clerk)
    assert notice.change.reconfirm_required and "confirm it again" in next(
        m for m in mailoutbox if m.to == ["clerk@muster.example"]).body
    with pytest.raises(ValidationError):  # "read" is not how a required confirmation is answered
        services.briefing_notice_read(actor=clerk, notice=notice)
    services.briefing_confirm(actor=clerk, use_case=live["use_case"])
    notice.refresh_from_db()
    assert notice.read_at is not None and _cleared(live, clerk)


def test_undecided_counts_as_confirming_again_and_a_change_outside_the_briefing_tells_nobody(live):
    team, clerk = live["team"], live["team"]["clerk"]
    approve_all(_propose(live, purpose="Belege sortieren und ablegen"), team)
    assert not BriefingChange.objects.exists() and _cleared(live, clerk)
    approve_all(_propose(live, manual_fallback=FALLBACK), team)
    assert BriefingChange.objects.get().reconfirm_required and not _cleared(live, clerk)


def test_the_lead_chooses_on_the_change_request_page(live, client):
    team = live["team"]
    cr = _propose(live, manual_fallback=FALLBACK)
    cr = changes.change_request_approve(actor=team["department_owner"], change_request=cr, role="department_owner")
    login(client, team["automation_lead"], live["tenant"])
    url = reverse("automations:change-request-detail", args=[cr.pk])
    page = client.get(url).content.decode()
    assert 'id="briefing-notice"' in page and 'name="briefing_reconfirm"' in page
    decide = reverse("automations:change-request-decide", args=[cr.pk])
    refused = client.post(decide, {"role": "automation_lead", "decision": "approve", "comment": ""})
    assert refused.status_code == 400
    cr.refresh_from_db()
    assert cr.state == ChangeState.OPEN
    client.post(decide, {"role": "automation_lead", "decision": "approve", "comment": "", "briefing_reconfirm": "no"})
    cr.refresh_from_db()
    assert cr.state == ChangeState.APPLIED and cr.briefing_reconfirm is False
    assert 'id="briefing-decision"' in client.get(url).content.decode()
    assert _cleared(live, team["clerk"])


def test_a_notice_is_the_clerks_own(live, client):
    team = live["team"]
    cr = _propose(live, manual_fallback=FALLBACK)
    for role in cr.required_roles:
        changes.change_request_approve(actor=team[role], change_request=cr, role=role,
                                       briefing_reconfirm=False if role == "automation_lead" else None)
    notice = BriefingNotice.objects.get()
    login(client, team["clerk_2"], live["tenant"])
    assert client.post(reverse("reviews:briefing-notice-read", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_retiring_a_use_case_tells_no_clerk(live):
    team = live["team"]
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=live["tenant"], use_case=live["use_case"],
                                       kind=ChangeKind.STATUS_CHANGE, title="Stilllegen", description="Ersetzt.",
                                       payload={"to": "retired"})
    assert approve_all(cr, team).state == ChangeState.APPLIED
    assert not BriefingChange.objects.exists() and not BriefingNotice.objects.exists()


def test_new_thresholds_going_live_warn_and_keep_clerks_working_as_the_lead_decided(live):
    team, use_case, clerk = live["team"], live["use_case"], live["team"]["clerk"]
    field = use_case.output_fields[0]["name"]
    release = make_release(use_case, team["automation_lead"], thresholds={field: {"auto": 0.8, "reject": 0.2}})
    assert evaluate_release(release, team["automation_lead"]).passed
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=live["tenant"], use_case=use_case,
                                       kind=ChangeKind.LABEL_MOVE, title="Schwellen", description="Mehr Automatik.",
                                       payload={"label": "production", "release_id": release.pk})
    assert registry_selectors.change_request_briefing_items(change_request=cr) == ["thresholds"]
    for role in cr.required_roles:
        approver = team["automation_lead_2"] if role == "automation_lead" else team[role]
        cr = changes.change_request_approve(actor=approver, change_request=cr, role=role,
                                            briefing_reconfirm=False if role == "automation_lead" else None)
    assert cr.state == ChangeState.APPLIED and _cleared(live, clerk)
    change = BriefingChange.objects.get()
    assert change.after["thresholds"] == {field: {"auto": 0.8, "reject": 0.2}}
    assert BriefingNotice.objects.get(change=change).user == clerk
