"""The execution pages: who may open what, and the flows a user runs there."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.actors import SYSTEM
from automations.choices import ItemStatus
from automations.execution.services import intake
from automations.models import Escalation, MasterRecord, WorkItem
from tests.access import login
from tests.automations.factories import make_rules_use_case
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(tenant, team, eager_tasks):
    use_case = make_rules_use_case(tenant, team)
    join_team(team["clerk"], use_case, team["automation_lead"])  # the clerk works the use case's department
    return use_case


def _item(team, tenant, django_capture_on_commit_callbacks, text="Rechnung Rechnungsnummer 4"):
    upload = SimpleUploadedFile("beleg.txt", text.encode(), content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        item, _ = intake.work_item_create(actor=team["clerk"], tenant=tenant, use_case_key="belege", files=[upload])
    return item


PAGES = [
    ("work:item-list", "automations.view_workitem"),
    ("work:upload", "automations.add_workitem"),
    ("work:escalations", "automations.view_escalation"),
    ("work:master-data", "automations.view_masterrecord"),
]


@pytest.mark.parametrize("url_name,_perm", PAGES)
def test_pages_need_login(client, url_name, _perm):
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("url_name,_perm", PAGES)
def test_works_council_may_not_open_execution_pages(client, tenant, team, url_name, _perm):
    assert login(client, team["works_council"], tenant).get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name,_perm", PAGES)
def test_permitted_roles_open_execution_pages(client, tenant, team, url_name, _perm):
    assert login(client, team["automation_lead"], tenant).get(reverse(url_name)).status_code == 200


def test_browser_upload_of_several_files_creates_one_item_each(client, tenant, team, live,
                                                               django_capture_on_commit_callbacks):
    login(client, team["clerk"], tenant)
    files = [SimpleUploadedFile(f"b{i}.txt", f"Lieferschein {i}".encode(), content_type="text/plain") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("work:upload"), {"use_case": "belege", "files": files}, follow=True)
    assert response.status_code == 200
    assert WorkItem.objects.filter(use_case=live, source="upload").count() == 3
    assert set(WorkItem.objects.values_list("status", flat=True)) == {ItemStatus.APPLIED}


def test_item_page_shows_values_confidence_and_steps(client, tenant, team, live, django_capture_on_commit_callbacks):
    item = _item(team, tenant, django_capture_on_commit_callbacks)
    page = login(client, team["clerk"], tenant).get(reverse("work:item-detail", args=[item.pk])).content.decode()
    assert "invoice" in page and "%" in page
    # Steps by what they do, runs counted as runs ("Durchlauf 1", never "Ausführen 1").
    assert "Felder auslesen" in page and "Nach Schwellenwerten weiterleiten" in page and "Durchlauf 1" in page
    assert "extract:" not in page and "Ausführen 1" not in page


def test_other_tenants_item_and_file_are_not_found(client, tenant, team, live, make_tenant, make_user,
                                                    django_capture_on_commit_callbacks):
    item = _item(team, tenant, django_capture_on_commit_callbacks)
    other = make_tenant()
    stranger = make_user(tenant=other, roles=["automation_lead"])
    login(client, stranger, other)
    assert client.get(reverse("work:item-detail", args=[item.pk])).status_code == 404
    assert client.get(reverse("work:item-file", args=[item.pk, item.files.get().pk])).status_code == 404


def test_file_is_served_only_through_the_checked_view(client, tenant, team, live, django_capture_on_commit_callbacks):
    item = _item(team, tenant, django_capture_on_commit_callbacks)
    stored = item.files.get()
    response = login(client, team["clerk"], tenant).get(reverse("work:item-file", args=[item.pk, stored.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"Rechnung")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    login(client, team["works_council"], tenant)
    assert client.get(reverse("work:item-file", args=[item.pk, stored.pk])).status_code == 403


def test_escalation_contact_acknowledges_and_closes_from_home(client, tenant, team, live,
                                                              django_capture_on_commit_callbacks):
    from automations.execution.services.escalations import escalation_create

    item = _item(team, tenant, django_capture_on_commit_callbacks)
    escalation = escalation_create(item=item, reason="Beleg unlesbar", actor=SYSTEM)
    login(client, team["department_owner"], tenant)
    assert "Beleg unlesbar" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("work:escalation-action", args=[escalation.pk, "acknowledge"]))
    client.post(reverse("work:escalation-action", args=[escalation.pk, "close"]), {"resolution": "manuell erfasst"})
    escalation.refresh_from_db()
    assert escalation.state == "closed" and escalation.resolution == "manuell erfasst"
    login(client, team["clerk"], tenant)
    other = escalation_create(item=item, reason="noch eins", actor=SYSTEM)
    client.post(reverse("work:escalation-action", args=[other.pk, "acknowledge"]))
    other.refresh_from_db()
    assert other.state == "open"  # a clerk is neither the contact nor the core team


def test_master_data_csv_import_reports_bad_lines(client, tenant, team):
    login(client, team["automation_lead"], tenant)
    csv = "number;name;vat_id;iban;email\nL-1;Papier AG;DE123456789;;\n;ohne Nummer;;;\nL-2;Druck GmbH;;;\n"
    response = client.post(reverse("work:master-data"),
                           {"kind": "supplier", "csv": SimpleUploadedFile("s.csv", csv.encode())}, follow=True)
    assert MasterRecord.objects.filter(tenant=tenant, kind="supplier").count() == 2
    assert "line 3" in response.content.decode() or "Zeile 3" in response.content.decode()


def test_dry_run_of_a_draft_release_applies_nothing(client, tenant, team, live, django_capture_on_commit_callbacks):
    from automations.registry.services import versions

    lead = team["automation_lead"]
    draft_threshold = versions.version_submit(actor=lead, version=versions.version_create(
        actor=lead, use_case=live, kind="threshold_set",
        content={"thresholds": {"document_class": {"auto": 0.1, "reject": 0.0}}}))
    config = live.releases.get().engine_configs.get()
    release = versions.release_create(actor=lead, use_case=live, threshold_set=draft_threshold, engine_configs=[config])
    login(client, lead, tenant)
    sample = SimpleUploadedFile("probe.txt", b"Mahnung Zahlungserinnerung", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("work:dry-run", args=["belege"]), {"release": release.pk, "files": [sample]})
    assert response.status_code == 302
    item = WorkItem.objects.get(is_dry_run=True)
    assert item.release == release and item.fields["document_class"]["value"] == "reminder"
    assert not item.review_tasks.exists() and not Escalation.objects.filter(item=item).exists()
    assert not WorkItem.objects.filter(is_dry_run=False).exists()
    api = client.get("/api/v1/work-items/").json()
    assert api["results"] == []  # dry runs never reach target systems


def test_use_case_page_leads_to_execution_and_says_how_replies_are_made(client, tenant, team, live):
    page = login(client, team["automation_lead"], tenant).get(reverse("automations:use-case-detail",
                                                                       args=["belege"])).content.decode()
    assert "/work/upload/?use_case=belege" in page and "/work/dry-run/belege/" in page
    assert "/registry/belege/training/" in page  # a category field: the classifier can be trained
    assert 'id="reply-setup"' not in page
    from tests.automations.factories import make_use_case

    make_use_case(tenant, team["automation_lead"], key="tickets", output_fields=[
        {"name": "queue", "type": "category", "choices": ["a"]}, {"name": "reply", "type": "long_text"}])
    page = client.get(reverse("automations:use-case-detail", args=["tickets"])).content.decode()
    assert 'id="reply-setup"' in page
    assert "Sprachmodell" in page or "language model" in page  # no provider in the catalogue


def test_browser_upload_refuses_a_file_the_use_case_cannot_read_and_says_why(client, tenant, team, live,
                                                                             django_capture_on_commit_callbacks):
    login(client, team["clerk"], tenant)
    files = [SimpleUploadedFile("rechnung.pdf", b"<html><script>alert(1)</script></html>",
                                content_type="application/pdf"),
             SimpleUploadedFile("lieferschein.txt", b"Lieferschein 7", content_type="text/plain")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("work:upload"), {"use_case": "belege", "files": files}, follow=True)
    # The refusal stays on the upload form, beside the file input; what was received is said as a message.
    assert response.templates[0].name == "automations/work/upload.html"
    shown = [str(m) for m in response.context["errors"]]
    assert any(m.startswith("rechnung.pdf:") and "HTML" in m and "belege" in m for m in shown), shown
    assert [str(m) for m in response.context["messages"]] == ["1 Vorgang angenommen; er wird verarbeitet."]
    assert list(WorkItem.objects.filter(use_case=live).values_list("files__name", flat=True)) == ["lieferschein.txt"]


def test_dry_run_refuses_a_file_the_release_cannot_read(client, tenant, team, live):
    release = live.releases.get()
    login(client, team["automation_lead"], tenant)
    svg = SimpleUploadedFile("probe.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
                             content_type="image/svg+xml")
    response = client.post(reverse("work:dry-run", args=[live.key]), {"release": release.pk, "files": [svg]},
                           follow=True)
    assert any("SVG" in str(m) for m in response.context["messages"])
    assert not WorkItem.objects.filter(is_dry_run=True).exists()


# --- lists that identify the item ------------------------------------------------------------------------

@pytest.fixture
def tickets(tenant, team):
    from tests.automations.factories import make_use_case
    MasterRecord.objects.create(tenant=tenant, kind="customer", number="K-10001", name="Bäckerei Schmidt OHG")
    return make_use_case(tenant, team["automation_lead"], key="tickets", input_fields=[
        {"name": "subject", "type": "text", "title": True, "label": {"de": "Betreff"}},
        {"name": "customer_number", "type": "text", "title": True, "reference": "customer.number"},
    ], output_fields=[{"name": "amount", "type": "decimal", "title": True, "label": {"de": "Betrag"}},
                      {"name": "queue", "type": "category", "choices": ["technik"]}])


def _ticket(use_case, n, **payload):
    return WorkItem.objects.create(
        tenant=use_case.tenant, use_case=use_case, content_hash=f"t{n}", status=ItemStatus.REVIEW,
        payload={"subject": f"Ofen {n} defekt", "customer_number": "K-10001", **payload},
        fields={"amount": {"value": "1260.5", "confidence": 0.9}, "queue": {"value": "technik", "confidence": 0.9}})


def test_the_item_list_names_file_subject_customer_and_amount(client, tenant, team, live, tickets,
                                                               django_capture_on_commit_callbacks):
    _item(team, tenant, django_capture_on_commit_callbacks)
    _ticket(tickets, 1)
    _ticket(tickets, 2, customer_number="K-99999")
    page = login(client, team["automation_lead"], tenant).get(reverse("work:item-list")).content.decode()
    assert "beleg.txt" in page
    assert "Ofen 1 defekt" in page and "Ofen 2 defekt" in page
    assert "Bäckerei Schmidt OHG (K-10001)" in page and "K-99999" in page  # resolved where master data knows it
    assert "1.260,50 €" in page  # an amount in the locale, with its currency


def test_the_item_list_takes_the_same_statements_for_more_items(client, tenant, team, tickets,
                                                                django_assert_max_num_queries):
    login(client, team["automation_lead"], tenant)
    _ticket(tickets, 1)
    client.get(reverse("work:item-list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("work:item-list"))
    for n in range(2, 12):
        _ticket(tickets, n)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("work:item-list"))


def test_escalations_name_the_item_in_a_table_that_fits(client, tenant, team, tickets):
    from automations.execution.services.escalations import escalation_create
    item = _ticket(tickets, 7)
    escalation_create(actor=SYSTEM, item=item, reason="Kunde droht mit Kündigung")
    page = login(client, team["automation_lead"], tenant).get(reverse("work:escalations")).content.decode()
    assert "Ofen 7 defekt" in page and "Bäckerei Schmidt OHG (K-10001)" in page
    assert '<div class="table-wrap"><table class="table table-escalations">' in page
    assert ">Vorgang</th>" in page and "Punkt" not in page


def test_upload_messages_count_right_and_say_when_items_are_held(client, tenant, team, live,
                                                                 django_capture_on_commit_callbacks):
    login(client, team["clerk"], tenant)
    one = [SimpleUploadedFile("a.txt", b"Lieferschein 1", content_type="text/plain")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("work:upload"), {"use_case": "belege", "files": one}, follow=True)
    assert "1 Vorgang angenommen; er wird verarbeitet." in response.content.decode()
    from automations.registry.services.use_cases import use_case_suspend
    use_case_suspend(actor=team["automation_lead"], use_case=live, reason="Prüfung")
    two = [SimpleUploadedFile(f"b{i}.txt", f"Lieferschein {i}".encode(), content_type="text/plain") for i in (2, 3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("work:upload"), {"use_case": "belege", "files": two}, follow=True)
    page = response.content.decode()
    assert "2 Vorgänge angenommen; sie werden angehalten, solange der Anwendungsfall ausgesetzt ist." in page
    assert "Vorgang/Vorgänge" not in page and "werden verarbeitet" not in page


def test_a_too_large_file_is_refused_on_the_upload_form(client, tenant, team, live, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 1024 * 1024
    login(client, team["clerk"], tenant)
    big = SimpleUploadedFile("gross.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10), content_type="application/pdf")
    response = client.post(reverse("work:upload"), {"use_case": "belege", "files": [big]})
    assert response.status_code == 400
    assert response.templates[0].name == "automations/work/upload.html"
    page = response.content.decode()
    assert 'id="upload-errors"' in page and "gross.pdf" in page
    assert not WorkItem.objects.filter(use_case=live).exists()


def test_the_dry_run_page_records_who_saw_its_samples(client, tenant, team, eager_tasks,
                                                      django_capture_on_commit_callbacks):
    """The page lists the samples tried, each named by its title fields: for a use case with personal data one
    access event for the page, naming the samples."""
    from audit.models import AccessEvent
    from automations.execution.services import dry_run

    use_case = make_rules_use_case(tenant, team, key="post", data_subjects=["Kunden"], legal_basis="art6_1_b",
                                   input_fields=[{"name": "text", "type": "long_text", "personal_data": True,
                                                  "category": "contact"}])
    lead = team["automation_lead"]
    sample = SimpleUploadedFile("probe.txt", b"Mahnung an Erika Mustermann", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        dry_run.dry_run_create(actor=lead, release=use_case.releases.get(), files=[sample])
    item = WorkItem.objects.get(is_dry_run=True)
    before = AccessEvent.objects.count()
    assert login(client, lead, tenant).get(reverse("work:dry-run", args=["post"])).status_code == 200
    event, = AccessEvent.objects.order_by("id")[before:]
    assert (event.event_type, event.details["purpose"], event.details["items"], event.actor_user_id) == (
        "work_items.listed", "dry runs", [str(item.pk)], lead.pk)


def test_an_item_with_no_file_and_no_title_value_shows_the_opening_of_its_text(client, tenant, team):
    from automations.execution.services.escalations import escalation_create
    from tests.automations.factories import make_use_case
    use_case = make_use_case(tenant, team["automation_lead"], key="belege", input_fields=[
        {"name": "text", "type": "long_text", "label": {"de": "Text"}}],
        output_fields=[{"name": "klasse", "type": "category", "title": True, "choices": ["lieferschein"]}])
    item = WorkItem.objects.create(tenant=tenant, use_case=use_case, content_hash="b1", status=ItemStatus.ESCALATED,
                                   payload={"text": "Lieferschein  Nr. 4711\nder Firma Muster, Anlieferung am "
                                                    "Montag an Tor 3, bitte mit Bestellung abgleichen"})
    escalation_create(actor=SYSTEM, item=item, reason="Verarbeitung fehlgeschlagen")
    page = login(client, team["automation_lead"], tenant).get(reverse("work:escalations")).content.decode()
    assert 'title="Text">Lieferschein Nr. 4711 der Firma Muster, Anlieferung am …<' in page
    assert "ohne Datei und Titelfelder" not in page
