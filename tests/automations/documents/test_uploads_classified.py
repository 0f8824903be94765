"""A document uploaded to a classifying use case is classified like its text sent as JSON: the same
value with the same confidence, whether it arrives as a PDF, a text file or an e-mail, through the API
(multipart) or the browser's upload page. The demo use cases and classifiers are the quick start's."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from automations.models import WorkItem
from portal import services as portal_services
from tests.automations.documents.helpers import mail, text_pdf

pytestmark = pytest.mark.django_db

DELIVERY_NOTE = [
    "Lieferschein Nr. LS-2025-0815",
    "Metallbau Weber GmbH, Industriestraße 4, 34117 Kassel",
    "Wir liefern Ihnen heute folgende Positionen zu Ihrer Bestellung:",
    "10 Stück Heizregler HR-4, 2 Paletten Montagematerial",
    "Bitte prüfen Sie die Ware bei Anlieferung und bestätigen Sie den Empfang.",
]
TICKET = [
    "Heizregler HR-4 defekt, bitte Austausch",
    "Sehr geehrte Damen und Herren,",
    "der gelieferte Heizregler HR-4 ist defekt, die Anzeige bleibt dunkel.",
    "Bitte schicken Sie uns schnell ein Ersatzgerät, unsere Produktion steht.",
    "Viele Grüße, Metallbau Weber",
]
SENDER = "service@metallbau-weber.example"  # a demo customer


@pytest.fixture
def quickstart(demo_seeded, eager_tasks):
    return demo_seeded


class Client:
    """The API with a token and the browser's upload page, each request committing as a real one."""

    def __init__(self, seeded, capture, client):
        user = seeded.users["automation_lead"]
        _token, plain = portal_services.api_token_create(actor=user, tenant=seeded.tenant, user=user, name="Test")
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="en")
        self.browser = client
        self.browser.force_login(user)
        self.capture = capture

    def fields(self, pk) -> dict:
        response = self.api.get(reverse("api:work-item-detail", args=[pk]))
        assert response.status_code == 200, response.content
        return {name: (f["value"], f["confidence"]) for name, f in response.json()["fields"].items()}

    def json(self, use_case, payload) -> dict:
        with self.capture(execute=True):
            response = self.api.post(reverse("api:work-item-list"), {"use_case": use_case, "payload": payload},
                                     format="json")
        assert response.status_code == 201, response.content
        return self.fields(response.json()["id"])

    def multipart(self, use_case, name, data, content_type) -> dict:
        with self.capture(execute=True):
            response = self.api.post(reverse("api:work-item-list"), {
                "use_case": use_case, "file": SimpleUploadedFile(name, data, content_type=content_type)},
                format="multipart")
        assert response.status_code == 201, response.content
        return self.fields(response.json()["id"])

    def upload_page(self, use_case, name, data, content_type) -> dict:
        before = set(WorkItem.objects.values_list("pk", flat=True))
        with self.capture(execute=True):
            response = self.browser.post(reverse("work:upload"), {
                "use_case": use_case, "files": [SimpleUploadedFile(name, data, content_type=content_type)]})
        assert response.status_code == 302, response.content
        new = WorkItem.objects.exclude(pk__in=before).get()
        return self.fields(new.pk)


@pytest.fixture
def clients(quickstart, django_capture_on_commit_callbacks, client):
    return Client(quickstart, django_capture_on_commit_callbacks, client)


def _files(lines: list[str]):
    subject, body = lines[0], "\n".join(lines[1:])
    return [
        ("lieferung.pdf", text_pdf(lines), "application/pdf"),
        ("lieferung.txt", ("\n".join(lines) + "\n").encode("utf-8"), "text/plain"),
        ("lieferung.eml", mail(subject, body, sender=SENDER), "message/rfc822"),
        ("lieferung-html.eml", mail(subject, body, sender=SENDER, html=True), "message/rfc822"),
    ]


def test_documents_and_tickets_as_pdf_text_or_email_are_classified_like_their_text_as_json(clients):
    # One test for both use cases: seeding the quick start's classifiers is the expensive part.
    expected = clients.json("belegklassifizierung", {"text": "\n".join(DELIVERY_NOTE)})
    assert expected["document_class"][0] == "delivery_note" and expected["document_class"][1] > 0.5
    for name, data, content_type in _files(DELIVERY_NOTE):
        assert clients.multipart("belegklassifizierung", name, data, content_type) == expected, name
        assert clients.upload_page("belegklassifizierung", name, data, content_type) == expected, name

    subject, body = TICKET[0], "\n".join(TICKET[1:])
    expected = clients.json("service-tickets", {"subject": subject, "body": body, "sender_email": SENDER})
    assert set(expected) >= {"queue", "priority"}
    expected_without_sender = clients.json("service-tickets", {"subject": subject, "body": body})
    for name, data, content_type in _files(TICKET):
        # A mail names its sender; a PDF or text file does not.
        want = expected if name.endswith(".eml") else expected_without_sender
        assert clients.multipart("service-tickets", name, data, content_type) == want, name
        assert clients.upload_page("service-tickets", name, data, content_type) == want, name
