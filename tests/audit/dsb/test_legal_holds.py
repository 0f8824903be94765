"""Legal holds: placed and lifted by the DSB alone, with reason and reference, on an item, a person, a use
case or a period; listed on a page and over the API; audited; and respected by retention (nothing held is
deleted) and by erasure (held items are restricted instead). Lifting a hold lets retention act again."""
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent, LegalHold
from audit.selectors.subjects import subject_identify
from audit.services.erasure import data_subject_erase
from audit.services.legal_holds import legal_hold_lift, legal_hold_place
from audit.tasks import retention_sweep_task
from automations.models import WorkItem
from portal import services as portal_services
from portal.choices import TokenScope
from tests.access import login
from tests.audit.dsb.helpers import ERIKA, OTTO

pytestmark = pytest.mark.django_db


def _age(item, days: int) -> None:
    WorkItem.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=days), status="applied")


def _dsb(world):
    return world["team"]["data_protection_officer"]


def _place(world, scope, **values):
    if scope == "person" and values.get("identifier"):  # as the page and the API do: every identifier known
        subject = subject_identify(tenant=world["tenant"], identifier=values["identifier"],
                                   kind=values.get("identifier_kind"))
        values["identifiers"] = [(i.kind, i.value) for i in subject.identifiers]
    return legal_hold_place(actor=_dsb(world), tenant=world["tenant"], scope=scope, reason="Klage Az. 3 O 12/26",
                            reference=values.pop("reference", "LG-3-O-12"), **values)


def test_only_the_dsb_places_and_lifts_holds(world):
    for role in ("automation_lead", "auditor", "clerk"):
        with pytest.raises(PermissionDenied):
            legal_hold_place(actor=world["team"][role], tenant=world["tenant"], scope="item", reason="x",
                             reference="y", item_id=str(world["items"]["invoice"].pk))
    hold = _place(world, "item", item_id=str(world["items"]["invoice"].pk))
    with pytest.raises(PermissionDenied):
        legal_hold_lift(actor=world["team"]["auditor"], hold=hold, reason="Ende")
    assert hold.is_active


def test_a_hold_needs_reason_reference_and_a_complete_scope(world):
    with pytest.raises(ValidationError) as error:
        legal_hold_place(actor=_dsb(world), tenant=world["tenant"], scope="item", reason=" ", reference="",
                         item_id="nicht-da")
    assert set(error.value.message_dict) == {"reason", "reference", "item_id"}
    with pytest.raises(ValidationError) as error:
        _place(world, "period", date_from=date(2026, 12, 31), date_until=date(2026, 1, 1))
    assert "date_until" in error.value.message_dict
    with pytest.raises(ValidationError):
        _place(world, "use_case", use_case_key="gibt-es-nicht")
    with pytest.raises(ValidationError):
        _place(world, "person", identifier="")
    assert not LegalHold.objects.exists()


def test_placing_and_lifting_are_audited_and_the_person_is_kept_as_a_pseudonym(world):
    hold = _place(world, "person", identifier=OTTO["email"], identifier_kind="email")
    assert hold.subject_pseudonym.startswith("ps_") and OTTO["email"] not in str(
        LegalHold.objects.filter(pk=hold.pk).values().get())
    placed = AuditEvent.objects.get(event_type="legal_hold.placed")
    assert placed.actor_user_id == _dsb(world).pk and placed.details["subject"] == hold.subject_pseudonym
    assert placed.details["reference"] == "LG-3-O-12"
    legal_hold_lift(actor=_dsb(world), hold=hold, reason="Verfahren beendet")
    hold.refresh_from_db()
    assert not hold.is_active and hold.lifted_by == _dsb(world) and hold.lift_reason == "Verfahren beendet"
    assert AuditEvent.objects.filter(event_type="legal_hold.lifted", object_id=str(hold.pk)).exists()
    with pytest.raises(ValidationError):
        legal_hold_lift(actor=_dsb(world), hold=hold, reason="nochmal")


@pytest.mark.parametrize("scope", ["item", "person", "use_case", "period"])
def test_retention_keeps_what_an_active_hold_covers_and_lets_it_go_once_lifted(world, scope,
                                                                                 django_capture_on_commit_callbacks):
    otto = world["items"]["otto_plain"]  # tickets: 365 days
    other = world["items"]["erika_letter"]
    _age(otto, 400)
    _age(other, 400)
    otto.refresh_from_db()
    received = timezone.localtime(otto.created_at).date()
    values = {"item": {"item_id": str(otto.pk)},
              "person": {"identifier": OTTO["email"], "identifier_kind": "email"},
              "use_case": {"use_case_key": "tickets"},
              "period": {"date_from": received, "date_until": received}}[scope]
    hold = _place(world, scope, **values)
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep_task()
    assert WorkItem.objects.filter(pk=otto.pk).exists()
    assert WorkItem.objects.filter(pk=other.pk).exists() == (scope in ("use_case", "period"))
    legal_hold_lift(actor=_dsb(world), hold=hold, reason="Verfahren beendet")
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep_task()
    assert not WorkItem.objects.filter(pk__in=[otto.pk, other.pk]).exists()


def test_erasure_restricts_what_a_person_hold_covers_and_retention_still_keeps_it(
        world, django_capture_on_commit_callbacks):
    hold = _place(world, "person", identifier=ERIKA["number"], identifier_kind="customer_number")
    with django_capture_on_commit_callbacks(execute=True):
        report = data_subject_erase(actor=_dsb(world), tenant=world["tenant"], identifier=ERIKA["email"],
                                    kind="email")
    ticket = world["items"]["erika_ticket"]
    assert str(ticket.pk) in report.restricted_ids and str(ticket.pk) not in report.item_ids
    assert any(hold.reference in line for line in report.items_restricted)
    ticket.refresh_from_db()
    assert ticket.restricted
    # Her pseudonym keys are gone, yet the hold still finds what it keeps (by the keyed digest).
    _age(ticket, 400)
    WorkItem.objects.filter(pk=ticket.pk).update(restricted=True)
    with django_capture_on_commit_callbacks(execute=True):
        retention_sweep_task()
    assert WorkItem.objects.filter(pk=ticket.pk).exists()


def test_erasure_restricts_an_item_under_an_item_hold(world, django_capture_on_commit_callbacks):
    otto_plain, otto_ticket = world["items"]["otto_plain"], world["items"]["otto_ticket"]
    _place(world, "item", item_id=str(otto_plain.pk))
    with django_capture_on_commit_callbacks(execute=True):
        report = data_subject_erase(actor=_dsb(world), tenant=world["tenant"], identifier=OTTO["email"], kind="email")
    assert report.restricted_ids == [str(otto_plain.pk)]
    assert str(otto_ticket.pk) in report.item_ids
    assert WorkItem.objects.get(pk=otto_plain.pk).restricted


def test_the_page_lists_places_and_lifts_holds(client, world):
    dsb = _dsb(world)
    login(client, dsb, world["tenant"])
    page = client.get(reverse("audit:legal-holds"))
    assert page.status_code == 200 and 'type="date"' in page.content.decode()
    response = client.post(reverse("audit:legal-holds"), {
        "scope": "period", "date_from": "1. Dezember 2026", "date_until": "31.12.2026", "use_case_key": "tickets",
        "reason": "Betriebsprüfung 2026", "reference": "FA-2026/17"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.date_from, hold.date_until, hold.use_case_key) == (date(2026, 12, 1), date(2026, 12, 31), "tickets")
    listing = client.get(reverse("audit:legal-holds")).content.decode()
    assert "FA-2026/17" in listing and "Betriebsprüfung 2026" in listing
    bad = client.post(reverse("audit:legal-holds"), {"scope": "item", "item_id": "x", "reason": "r",
                                                     "reference": "R-1"})
    assert bad.status_code == 400
    assert client.post(reverse("audit:legal-hold-lift", args=[hold.pk]),
                       {"lift_reason": "Prüfung abgeschlossen"}).status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_by == dsb
    login(client, world["team"]["auditor"], world["tenant"])
    assert client.get(reverse("audit:legal-holds")).status_code == 200
    assert client.post(reverse("audit:legal-holds"), {"scope": "item"}).status_code == 403
    login(client, world["team"]["clerk"], world["tenant"])
    assert client.get(reverse("audit:legal-holds")).status_code == 403


def test_the_api_places_lists_and_lifts_holds(world):
    dsb = _dsb(world)
    _token, plain = portal_services.api_token_create(actor=dsb, tenant=world["tenant"], user=dsb, name="dsb",
                                                     scopes=list(TokenScope))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    created = api.post(reverse("api:legal-hold-list"), {
        "scope": "person", "identifier": OTTO["email"], "reason": "Anwaltsschreiben", "reference": "RA-55"},
        format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["subject_kind"] == "email" and body["is_active"] and OTTO["email"] not in str(body)
    assert api.post(reverse("api:legal-hold-list"), {"scope": "use_case", "reason": "x", "reference": "y"},
                    format="json").status_code == 400
    assert [h["reference"] for h in api.get(reverse("api:legal-hold-list")).json()] == ["RA-55"]
    lifted = api.post(reverse("api:legal-hold-lift", args=[body["id"]]), {"reason": "erledigt"}, format="json")
    assert lifted.status_code == 200 and lifted.json()["is_active"] is False
    auditor = world["team"]["auditor"]
    _token, plain = portal_services.api_token_create(actor=auditor, tenant=world["tenant"], user=auditor, name="a",
                                                     scopes=list(TokenScope))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert api.get(reverse("api:legal-hold-list")).status_code == 200
    assert api.post(reverse("api:legal-hold-list"), {"scope": "item"}, format="json").status_code == 403
