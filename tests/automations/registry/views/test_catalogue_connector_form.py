"""The core team configures a file drop or an e-mail connector on the catalogue's change form, in German, with
fields for their settings; what would not work is refused on the form with the reason, before any request."""
import pytest
from django.urls import reverse

from automations.registry import selectors

pytestmark = pytest.mark.django_db


def propose(client, **data):
    return client.post(reverse("automations:catalogue-change"), {
        "kind": "connector", "direction": "delivery", "transfer_basis": "on_premises", "is_active": "on",
        "title": "ERP-Import", "description": "Ergebnisse für den ERP-Import", **data}, HTTP_ACCEPT_LANGUAGE="de")


def test_the_form_offers_the_file_drop_and_email_settings_in_german(tenant, team, login):
    client = login(team["it_operator"], tenant)
    page = client.get(reverse("automations:catalogue-change"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    for label in ("Dateiablage (CSV oder JSON Lines)", "Dateiformat", "Zahlen- und Datumsformat",
                  "Deutsches Excel: semikolongetrennt, Dezimalkomma, 31.12.2026, UTF-8 mit BOM", "CSV-Spalten",
                  "Eine Datei je Intervall mit allen Ergebnissen", "Absenderadresse", "Feld mit der Antwort"):
        assert label in page, label


def test_a_file_drop_is_proposed_with_its_settings_from_the_form_fields(tenant, team, login):
    client = login(team["it_operator"], tenant)
    response = propose(client, key="erp-import", connector_type="file_drop", name="ERP-Import",
                       endpoint="/srv/erp/import", settings='{"max_attempts": 5}', file_format="csv",
                       file_profile="de", file_columns="Rechnungsnummer = invoice_number\nBrutto = gross_total\nid",
                       file_batch="interval", file_interval="600")
    assert response.status_code == 302, response.content.decode()[-2000:]
    (cr,) = selectors.change_request_list(tenant=tenant)
    assert cr.payload["fields"]["settings"] == {
        "max_attempts": 5, "format": "csv", "profile": "de", "batch": "interval", "interval": 600,
        "columns": [{"header": "Rechnungsnummer", "value": "invoice_number"},
                    {"header": "Brutto", "value": "gross_total"}, {"header": "id", "value": "id"}]}
    assert "security_officer" in cr.required_roles


def test_an_email_connector_is_proposed_with_its_sender_and_fields(tenant, team, login):
    client = login(team["it_operator"], tenant)
    response = propose(client, key="kundenmail", connector_type="email", name="Antworten an Kunden",
                       endpoint="smtps://service@mail.muster.example:465", email_from="service@muster.example",
                       email_reply_field="reply", email_recipient_field="sender_email")
    assert response.status_code == 302, response.content.decode()[-2000:]
    (cr,) = selectors.change_request_list(tenant=tenant)
    assert cr.payload["fields"]["settings"] == {"from_email": "service@muster.example", "reply_field": "reply",
                                                "recipient_field": "sender_email"}


def test_a_file_drop_it_could_not_write_is_refused_on_the_form_in_german(tenant, team, login):
    client = login(team["it_operator"], tenant)
    response = propose(client, key="erp-import", connector_type="file_drop", name="ERP-Import",
                       endpoint="erp/import", file_profile="de")
    assert response.status_code == 400
    assert "absoluter Ordnerpfad" in response.content.decode()
    response = propose(client, key="erp-import", connector_type="file_drop", name="ERP-Import",
                       endpoint="/srv/erp", settings='{"delimiter": ","}', file_profile="de")
    assert response.status_code == 400
    assert "Dezimaltrennzeichen und Spaltentrennzeichen müssen sich unterscheiden" in response.content.decode()
    assert not selectors.change_request_list(tenant=tenant).exists()
