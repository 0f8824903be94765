"""The DSB area as the data protection officer and auditors use it."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AccessEvent, AuditEvent, DataSubjectRequest
from audit.services.events import audit_event_record
from automations.models import MasterRecord, WorkItem
from portal.choices import Role
from tests.access import login
from tests.audit.conftest import tamper
from tests.audit.dsb.helpers import ERIKA, OTTO

pytestmark = pytest.mark.django_db


@pytest.fixture
def dsb_client(client, world):
    return login(client, world["team"]["data_protection_officer"], world["tenant"])


def _sequences(response) -> list[int]:
    return [event.sequence for event in response.context["page"].events]


def test_search_by_event_type_and_actor_newest_first(dsb_client, world):
    lead = world["team"]["automation_lead"]
    response = dsb_client.get(reverse("audit:event-list"), {"event_type": "master_record.", "actor": lead.username})

    assert response.status_code == 200
    events = response.context["page"].events
    assert [e.event_type for e in events] == ["master_record.changed"] * 4
    assert _sequences(response) == sorted(_sequences(response), reverse=True)
    assert "automation_lead" in response.content.decode()


def test_keyset_pages_cover_every_event_once_without_counting(dsb_client, world):
    tenant = world["tenant"]
    total = AuditEvent.objects.filter(chain=str(tenant.pk)).count()
    seen, params, pages = [], {}, 0
    while True:
        response = dsb_client.get(reverse("audit:event-list"), params)
        seen += _sequences(response)
        pages += 1
        page = response.context["page"]
        if not page.has_more:
            break
        params = {"after": page.next_cursor}
    assert sorted(seen, reverse=True) == seen and len(seen) == len(set(seen)) == total
    assert pages == -(-total // 50)


def test_the_list_needs_the_same_queries_whatever_the_page_holds(dsb_client, world, django_assert_max_num_queries):
    for _ in range(60):
        audit_event_record(actor=world["team"]["clerk"], tenant=world["tenant"], event_type="tenant.switched")
    with django_assert_max_num_queries(12):
        response = dsb_client.get(reverse("audit:event-list"))
    assert len(response.context["page"].events) == 50


def test_a_one_day_time_range(dsb_client, world):
    tenant = world["tenant"]
    old = AuditEvent.objects.filter(chain=str(tenant.pk)).order_by("sequence")[:3]
    yesterday = timezone.now() - timedelta(days=1)
    tamper(*[("UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s", [yesterday, e.pk]) for e in old])
    day = timezone.localtime(yesterday).date()

    response = dsb_client.get(reverse("audit:event-list"), {"since": f"{day}T00:00",
                                                             "until": f"{day + timedelta(days=1)}T00:00"})

    assert _sequences(response) == [3, 2, 1]


def test_searching_a_person_finds_their_events_and_is_recorded_as_access(dsb_client, world):
    response = dsb_client.get(reverse("audit:event-list"), {"subject": ERIKA["number"]})

    # Her number leads through master data to her e-mail address: her record (saved twice) and her ticket.
    events = response.context["page"].events
    assert sorted(e.event_type for e in events) == ["master_record.changed"] * 2 + ["work_item.received"]
    assert str(world["items"]["erika_ticket"].pk) in {e.object_id for e in events}
    assert "This search was recorded in the access log" in response.content.decode() or \
        "Diese Suche wurde im Zugriffsprotokoll" in response.content.decode()
    access = AccessEvent.objects.get(event_type="data_subject.searched")
    assert access.details["purpose"] == "audit_search" and access.details["subject"].startswith("ps_")
    assert access.actor_user_id == world["team"]["data_protection_officer"].pk


def test_the_access_log_shows_who_looked_and_why(dsb_client, world):
    dsb_client.get(reverse("audit:event-list"), {"subject": OTTO["number"]})
    response = dsb_client.get(reverse("audit:event-list"), {"stream": "access"})
    assert [e.event_type for e in response.context["page"].events] == ["data_subject.searched"]
    assert "Suche im Audit-Protokoll" in response.content.decode()  # why, by name (stored as audit_search)


def test_event_detail_links_the_record_and_reveals_a_pseudonym_for_a_purpose(dsb_client, world):
    event = AuditEvent.objects.filter(event_type="master_record.changed").order_by("sequence").first()
    pseudonym = event.details["number"]
    response = dsb_client.get(reverse("audit:event-detail", args=["audit", event.sequence]))
    assert response.status_code == 200 and pseudonym in response.content.decode()
    use_case_event = AuditEvent.objects.filter(event_type="use_case.created").first()
    detail = dsb_client.get(reverse("audit:event-detail", args=["audit", use_case_event.sequence]))
    assert detail.context["object_url"].startswith("/registry/")

    revealed = dsb_client.post(reverse("audit:pseudonym-reveal"), {"pseudonym": pseudonym, "purpose": "access_request",
                                                                "reference": "7"})

    assert ERIKA["number"] in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"
    access = AccessEvent.objects.get(event_type="pseudonym.revealed")
    assert access.details == {"purpose": "access_request 7", "subject": pseudonym}


def test_a_purpose_is_chosen_not_typed_so_the_access_log_never_names_anyone(dsb_client, world):
    pseudonym = AuditEvent.objects.filter(event_type="master_record.changed").first().details["number"]
    response = dsb_client.post(reverse("audit:pseudonym-reveal"), {"pseudonym": pseudonym, "purpose": "audit",
                                                                   "reference": "Erika Mustermann"})
    assert response.status_code == 400
    assert not AccessEvent.objects.filter(event_type="pseudonym.revealed").exists()


def test_an_erased_pseudonym_reveals_no_one(dsb_client, world):
    from tests.audit.dsb.helpers import erase

    pseudonym = AuditEvent.objects.filter(event_type="master_record.changed").order_by("sequence").first().details[
        "number"]
    assert erase(ERIKA["number"], "--tenant", "muster", "--actor", "data_protection_officer")[0] == 0
    response = dsb_client.post(reverse("audit:pseudonym-reveal"), {"pseudonym": pseudonym, "purpose": "audit"})
    assert ERIKA["number"] not in response.content.decode()
    assert response.context["identifier"] is None
    assert not AccessEvent.objects.filter(event_type="pseudonym.revealed").exists()


def test_erasure_through_the_area_previews_then_erases(dsb_client, world):
    url = reverse("audit:erasure")
    preview = dsb_client.post(url, {"identifier": OTTO["email"]})
    assert preview.status_code == 200 and preview.context["report"].dry_run
    assert MasterRecord.objects.filter(number=OTTO["number"]).exists()

    done = dsb_client.post(url, {"identifier": OTTO["email"], "kind": "", "confirm": "on",
                                 "reason": "Art. 17(1)(a) GDPR: no longer needed"})

    assert done.status_code == 200
    assert not MasterRecord.objects.filter(number=OTTO["number"]).exists()
    assert not WorkItem.objects.filter(pk=world["items"]["otto_plain"].pk).exists()
    assert DataSubjectRequest.objects.get().kind == "erasure"


def test_an_ambiguous_name_is_shown_with_the_candidates(dsb_client, world):
    from automations.execution.services import master_data

    for number in ("K-7", "K-8"):
        master_data.master_record_save(actor=world["team"]["automation_lead"], tenant=world["tenant"],
                                       kind="customer", number=number, name="Eva Meier", email=f"{number}@x.example")
    response = dsb_client.post(reverse("audit:erasure"), {"identifier": "Eva Meier"})
    assert response.status_code == 400
    assert response.context["form"].candidates == ["Customer K-7: Eva Meier <K-7@x.example>",
                                                    "Customer K-8: Eva Meier <K-8@x.example>"] or \
        len(response.context["form"].candidates) == 2


def test_an_access_request_exports_every_automated_decision(dsb_client, world):
    created = dsb_client.post(reverse("audit:access-request-create"), {"identifier": ERIKA["email"]})
    request = DataSubjectRequest.objects.get()
    assert created.status_code == 302 and request.kind == "access" and request.status == "open"
    assert request.due_at.date() > request.received_at.date()

    response = dsb_client.get(reverse("audit:request-export", args=[request.pk, "json"]))

    export = response.json()
    decisions = {d["item"]: d for d in export["automated_decisions"]}
    ticket = decisions[str(world["items"]["erika_ticket"].pk)]
    assert ticket["release"] == 1 and ticket["use_case"] == "tickets"
    suggestion = ticket["suggestions"][0]
    assert suggestion["field"] == "document_class" and 0 <= suggestion["confidence"] <= 1 and suggestion["engine"]
    assert "explanation" in suggestion
    assert ticket["reviews"][0]["reviewer"] == "clerk" and ticket["reviews"][0]["decision"] == "correct"
    assert export["use_cases"]["tickets"]["purpose"]
    assert export["master_data"][0]["number"] == ERIKA["number"]
    request.refresh_from_db()
    assert request.status == "open"  # reading the answer changes nothing
    assert AccessEvent.objects.filter(event_type="data_subject.exported").count() == 1
    page = dsb_client.get(reverse("audit:request-export", args=[request.pk, "html"]))
    assert ERIKA["email"] in page.content.decode() and "Rückruf" not in page.content.decode()
    # Completing is an explicit POST, after the identity check was recorded.
    complete = reverse("audit:request-action", args=[request.pk, "complete"])
    dsb_client.post(complete)
    request.refresh_from_db()
    assert request.status == "open"
    dsb_client.post(reverse("audit:request-action", args=[request.pk, "verify-identity"]),
                    {"check": "known_contact"})
    assert dsb_client.post(complete).status_code == 302
    request.refresh_from_db()
    assert request.status == "completed" and request.summary["items"] == 2


def test_overview_shows_the_public_key_the_last_verification_and_due_requests(dsb_client, world,
                                                                             django_capture_on_commit_callbacks):
    from audit import signing
    from audit.services.access import data_subject_access_request_open

    data_subject_access_request_open(actor=world["team"]["data_protection_officer"], tenant=world["tenant"],
                                     identifier=OTTO["email"], received_at=timezone.now() - timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):  # the task runs in-process (eager)
        response = dsb_client.post(reverse("audit:verification-start"))
    assert response.status_code == 302

    page = dsb_client.get(reverse("audit:home")).content.decode()

    assert signing.public_key_b64() in page
    assert 'id="verification-result"' in page and ("alle Ketten intakt" in page or "all chains intact" in page)
    assert "überfällig" in page or "overdue" in page


def test_the_home_panel_lists_due_requests_and_links_the_area(client, world):
    from audit.services.access import data_subject_access_request_open

    data_subject_access_request_open(actor=world["team"]["data_protection_officer"], tenant=world["tenant"],
                                     identifier=OTTO["email"])
    dsb = login(client, world["team"]["data_protection_officer"], world["tenant"]).get(reverse("portal:home"))
    assert 'id="open-requests"' in dsb.content.decode() and 'id="dsb-area-link"' in dsb.content.decode()
    auditor = login(client, world["team"]["auditor"], world["tenant"]).get(reverse("portal:home"))
    assert 'id="dsb-area-link"' in auditor.content.decode()


def test_processing_records_flag_missing_entries_and_print_as_pdf(dsb_client, world):
    response = dsb_client.get(reverse("audit:processing-records"))
    document = response.context["document"]
    tickets = next(r for r in document.records if r.key == "tickets")
    # The page speaks German by default: compare with the catalogue's wording of each entry.
    with translation.override("de"):
        controller_missing = gettext("(a) name and contact details of the controller")
        recipients_missing = gettext("(d) categories of recipients")
    assert controller_missing in tickets.missing
    assert any("(g)" in m for m in tickets.missing)
    from automations.registry.services.use_cases import tenant_policy_update_details

    tenant_policy_update_details(actor=world["team"]["data_protection_officer"], tenant=world["tenant"],
                                 reason="VVT", values={"controller_name": "Muster GmbH",
                                                       "controller_contact": "Stuttgart",
                                                       "dsb_contact": "datenschutz@muster.example",
                                                       "technical_measures": "TLS, Rollen"})
    tickets = next(r for r in dsb_client.get(reverse("audit:processing-records")).context["document"].records
                   if r.key == "tickets")
    assert tickets.missing == [recipients_missing]

    pdf = dsb_client.get(reverse("audit:processing-records-pdf"))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_works_council_sees_what_is_measured_and_whether_per_person_figures_are_on(client, world):
    page = login(client, world["team"]["works_council"], world["tenant"]).get(reverse("audit:works-council"))
    report = page.context["report"]
    assert not report.per_person_enabled
    tickets = next(u for u in report.use_cases if u.key == "tickets")
    assert any("Time on task" in line or "Bearbeitungszeit" in line for line in tickets.measured)
    assert client.get(reverse("audit:event-list")).status_code == 403


def test_the_auditor_reads_but_neither_erases_nor_reveals(client, world):
    auditor = login(client, world["team"]["auditor"], world["tenant"])
    assert auditor.get(reverse("audit:event-list")).status_code == 200
    assert auditor.get(reverse("audit:erasure")).status_code == 403
    assert auditor.post(reverse("audit:pseudonym-reveal"), {"pseudonym": "ps_" + "0" * 20, "purpose": "audit"}
                        ).status_code == 403
    assert Role.AUDITOR
