"""Handling requests as Art. 12 GDPR asks: intake with the day received typed the German way, identity check
recorded, one extension with its reason within the first month, refusal with its reason, erasure with its
ground, completion only by an explicit POST, and reminders before the deadline on the home page and by
e-mail (once per request)."""
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent, DataSubjectRequest
from audit.services.access import data_subject_access_complete, data_subject_access_request_open
from audit.services.request_handling import (
    data_subject_request_extend,
    data_subject_request_refuse,
    data_subject_request_reminders_send,
    data_subject_request_verify_identity,
)
from audit.services.requests import add_months
from audit.tasks import request_reminders_task
from portal import services as portal_services
from portal.choices import TokenScope
from tests.access import login
from tests.audit.dsb.helpers import ERIKA, OTTO

pytestmark = pytest.mark.django_db


def _dsb(world):
    return world["team"]["data_protection_officer"]


def _open(world, identifier=OTTO["email"], **kwargs):
    return data_subject_access_request_open(actor=_dsb(world), tenant=world["tenant"], identifier=identifier,
                                            **kwargs)


@pytest.mark.parametrize("typed", ["1. Dezember 2026", "01.12.2026", "2026-12-01", "1.12.26", "1. Dez. 2026"])
def test_the_received_on_field_takes_german_and_iso_dates(client, world, typed):
    login(client, _dsb(world), world["tenant"])
    form = client.get(reverse("audit:access-request-create")).content.decode()
    assert 'type="date"' in form
    response = client.post(reverse("audit:access-request-create"),
                           {"identifier": OTTO["email"], "received_on": typed, "channel": "letter"})
    assert response.status_code == 302, response.content.decode()[:500]
    request = DataSubjectRequest.objects.get()
    assert timezone.localtime(request.received_at).date().isoformat() == "2026-12-01"
    assert timezone.localtime(request.due_at).date().isoformat() == "2027-01-01"
    assert request.channel == "letter"
    assert AuditEvent.objects.filter(event_type="data_subject_request.received", object_id=str(request.pk)).exists()


def test_the_erasure_form_records_its_ground_and_the_day_received(client, world):
    login(client, _dsb(world), world["tenant"])
    data = {"identifier": OTTO["email"], "received_on": "1. Dezember 2026", "reason": "Art. 17(1)(a): Vertrag beendet"}
    preview = client.post(reverse("audit:erasure"), data)
    assert preview.status_code == 200 and "report" in preview.context
    refused = client.post(reverse("audit:erasure"), {**data, "reason": "", "confirm": "on"})
    assert refused.status_code == 400  # a real erasure needs its ground
    done = client.post(reverse("audit:erasure"), {**data, "confirm": "on"})
    assert done.status_code == 200
    request = DataSubjectRequest.objects.get(kind="erasure")
    assert request.reason == "Art. 17(1)(a): Vertrag beendet"
    assert timezone.localtime(request.received_at).date().isoformat() == "2026-12-01"


def test_identity_check_extension_and_completion(world):
    request = _open(world)
    with pytest.raises(ValidationError):
        data_subject_access_complete(actor=_dsb(world), request=request)  # identity not checked yet
    with pytest.raises(PermissionDenied):
        data_subject_request_verify_identity(actor=world["team"]["auditor"], request=request, check="id_document")
    with pytest.raises(ValidationError):
        data_subject_request_verify_identity(actor=_dsb(world), request=request, check="other")  # needs a note
    request = data_subject_request_verify_identity(actor=_dsb(world), request=request, check="id_document",
                                                   note="Personalausweis, Kopie geschwärzt")
    assert request.identity_checked_by == _dsb(world) and request.identity_check == "id_document"
    with pytest.raises(ValidationError):
        data_subject_request_extend(actor=_dsb(world), request=request, months=2, reason="")
    with pytest.raises(ValidationError):
        data_subject_request_extend(actor=_dsb(world), request=request, months=3, reason="viel")
    request = data_subject_request_extend(actor=_dsb(world), request=request, months=2,
                                          reason="Umfangreiche Unterlagen aus drei Systemen")
    assert request.due_at == add_months(request.received_at, 3)  # one month and two further months
    with pytest.raises(ValidationError):  # once only
        data_subject_request_extend(actor=_dsb(world), request=request, months=1, reason="noch mehr")
    request = data_subject_access_complete(actor=_dsb(world), request=request)
    assert request.status == "completed" and request.completed_at is not None
    kinds = set(AuditEvent.objects.filter(object_id=str(request.pk)).values_list("event_type", flat=True))
    assert {"data_subject_request.identity_checked", "data_subject_request.extended",
            "data_subject_access.answered"} <= kinds
    with pytest.raises(ValidationError):
        data_subject_request_refuse(actor=_dsb(world), request=request, reason="zu spät")


def test_no_extension_after_the_first_month(world):
    request = _open(world, received_at=timezone.now() - timedelta(days=40))
    with pytest.raises(ValidationError):
        data_subject_request_extend(actor=_dsb(world), request=request, months=1, reason="komplex")


def test_refusal_needs_a_reason_and_closes_the_request(world):
    request = _open(world)
    with pytest.raises(ValidationError):
        data_subject_request_refuse(actor=_dsb(world), request=request, reason=" ")
    request = data_subject_request_refuse(actor=_dsb(world), request=request,
                                          reason="Identität trotz Nachfrage nicht nachgewiesen")
    assert request.status == "refused" and request.refusal_reason.startswith("Identität")
    assert AuditEvent.objects.filter(event_type="data_subject_request.refused").exists()


def test_get_of_the_export_changes_nothing_and_the_page_completes_by_post(client, world):
    request = _open(world)
    login(client, _dsb(world), world["tenant"])
    for fmt in ("json", "html"):
        assert client.get(reverse("audit:request-export", args=[request.pk, fmt])).status_code == 200
    request.refresh_from_db()
    assert request.status == "open" and request.completed_at is None
    page = client.get(reverse("audit:request-detail", args=[request.pk])).content.decode()
    assert 'id="identity-form"' in page and 'id="extension-form"' in page and 'id="refusal-form"' in page
    client.post(reverse("audit:request-action", args=[request.pk, "verify-identity"]), {"check": "known_contact"})
    client.post(reverse("audit:request-action", args=[request.pk, "extend"]), {"months": "1", "reason": "komplex"})
    assert client.get(reverse("audit:request-action", args=[request.pk, "complete"])).status_code == 405
    assert client.post(reverse("audit:request-action", args=[request.pk, "complete"])).status_code == 302
    request.refresh_from_db()
    assert request.status == "completed" and request.extension_reason == "komplex"


def test_reminders_on_the_home_page_and_once_by_email(client, world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    dsb = _dsb(world)
    dsb.email = "dsb@muster.example"
    dsb.save()
    due_soon = _open(world, received_at=timezone.now() - timedelta(days=27))
    later = _open(world, identifier=ERIKA["email"])
    login(client, dsb, world["tenant"])
    home = client.get(reverse("portal:home")).content.decode()
    assert "due-soon" in home
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out on commit
        assert request_reminders_task() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dsb@muster.example"]
    assert f"#{due_soon.pk}" in mail.outbox[0].subject
    assert data_subject_request_reminders_send() == 0  # once per request and deadline
    later.refresh_from_db()
    assert later.reminder_sent_at is None
    assert AuditEvent.objects.filter(event_type="data_subject_request.reminded", object_id=str(due_soon.pk)).exists()


def test_the_api_handles_a_request_step_by_step(world):
    dsb = _dsb(world)
    _token, plain = portal_services.api_token_create(actor=dsb, tenant=world["tenant"], user=dsb, name="dsb",
                                                     scopes=[TokenScope.READ, TokenScope.DATA_PROTECTION])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    created = api.post(reverse("api:subject-request-list"), {
        "kind": "access", "identifier": OTTO["email"], "channel": "email",
        "received_at": "2026-12-01T09:00:00+01:00"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.get(reverse("api:subject-request-export", args=[pk])).status_code == 200
    assert api.get(reverse("api:subject-request-detail", args=[pk])).json()["status"] == "open"
    action = lambda name, **body: api.post(reverse("api:subject-request-action", args=[pk, name]), body,  # noqa: E731
                                           format="json")
    assert action("complete").status_code == 400  # identity first
    assert action("verify-identity", check="id_document").status_code == 200
    extended = action("extend", months=2, reason="komplex")
    assert extended.status_code in (200, 400)  # 400 once the first month after 1 Dec 2026 is over
    done = action("complete")
    assert done.status_code == 200 and done.json()["status"] == "completed"
