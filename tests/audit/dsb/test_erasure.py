"""erase_subject (DESIGN.md, "Contracts"): after an erasure the person's identifiers are found in no table,
other people's items are untouched, and verify_audit still passes."""
import pytest
from django.core.files.storage import default_storage

from audit.choices import RequestKind, RequestStatus
from audit.models import DataSubjectRequest, Pseudonym
from audit.selectors.pseudonyms import pseudonym_lookup
from automations.execution.selectors import work_item_list
from automations.execution.services import master_data
from automations.models import LabelledExample, MasterRecord, WorkItem
from automations.training import services as training
from tests.audit.conftest import run_verify
from tests.audit.dsb.helpers import ERIKA, OTTO, SUPPLIER, erase, every_stored_text

pytestmark = pytest.mark.django_db

ERIKAS_IDENTIFIERS = [ERIKA["email"], ERIKA["number"], ERIKA["name"], ERIKA["iban"]]


def _found(text: str, values: list[str]) -> list[str]:
    lowered = text.casefold()
    return [value for value in values if value.casefold() in lowered]


def test_erasure_leaves_no_trace_of_the_person_and_the_chain_verifies(world, django_capture_on_commit_callbacks):
    tenant, team = world["tenant"], world["team"]
    items = world["items"]
    training.examples_import(actor=team["automation_lead"], use_case=world["tickets"], text_columns="text",
                             label_columns="document_class", rows_iter=[
                                 {"text": f"Bitte an {ERIKA['email']} antworten", "document_class": "invoice"},
                                 {"text": "Lieferschein fehlt", "document_class": "delivery_note"}])
    files_before = [f.file.name for f in items["erika_letter"].files.all()]
    assert _found(every_stored_text(), ERIKAS_IDENTIFIERS) == ERIKAS_IDENTIFIERS  # she is everywhere first
    otto_plain = dict(items["otto_plain"].payload)

    with django_capture_on_commit_callbacks(execute=True):  # files are deleted once the erasure commits
        code, output = erase(ERIKA["email"], "--tenant", "muster", "--actor", "data_protection_officer")

    assert code == 0, output
    assert f"Erased email {ERIKA['email']}" in output
    assert f"Customer {ERIKA['number']}: {ERIKA['name']}" in output
    assert str(items["erika_ticket"].pk) in output and str(items["erika_letter"].pk) in output
    assert _found(every_stored_text(), ERIKAS_IDENTIFIERS) == []
    # Her items, files, examples and master data are gone; Otto's are there, a mention of her replaced.
    assert not WorkItem.objects.filter(pk__in=[items["erika_ticket"].pk, items["erika_letter"].pk]).exists()
    assert not any(default_storage.exists(name) for name in files_before)
    assert not MasterRecord.objects.filter(number=ERIKA["number"]).exists()
    assert MasterRecord.objects.filter(number=OTTO["number"]).exists()
    assert LabelledExample.objects.filter(use_case=world["tickets"]).count() == 1
    assert WorkItem.objects.get(pk=items["otto_plain"].pk).payload == otto_plain
    otto_ticket = WorkItem.objects.get(pk=items["otto_ticket"].pk)
    assert otto_ticket.payload["text"] == "Frau [gelöscht] hat mir Ihre Adresse gegeben. Rechnung fehlt."
    assert otto_ticket.payload["sender_email"] == OTTO["email"]
    # Her pseudonyms refer to no one any more; the request is kept with a hash only.
    assert pseudonym_lookup(tenant=tenant, kind="customer_number", identifier=ERIKA["number"]) is None
    assert Pseudonym.objects.filter(erased_at__isnull=False, subject_key__isnull=True).count() >= 2
    request = DataSubjectRequest.objects.get(tenant=tenant)
    assert request.kind == RequestKind.ERASURE and request.status == RequestStatus.COMPLETED
    assert len(request.identifier_hash) == 64 and request.completed_at is not None
    assert (request.due_at - request.received_at).days in (28, 29, 30, 31)
    assert run_verify() == (0, [f"muster: {_events(tenant)} events ok", "system: 0 events ok"])


def _events(tenant) -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.filter(chain=str(tenant.pk)).count()


@pytest.mark.django_db(transaction=True)
def test_after_an_erasure_a_full_database_dump_does_not_contain_the_person(world, settings):
    """pg_dump of the whole database: what an attacker with a backup would read."""
    import shutil
    import subprocess

    from django.db import connection

    if connection.vendor != "postgresql" or shutil.which("pg_dump") is None:
        pytest.skip("needs PostgreSQL and pg_dump")
    code, output = erase(ERIKA["number"], "--tenant", "muster", "--actor", "data_protection_officer")
    assert code == 0, output

    params = connection.get_connection_params()
    dump = subprocess.run(
        ["pg_dump", "--data-only", "-h", params.get("host", "127.0.0.1"), "-p", str(params.get("port", 5432)),
         "-U", params["user"], params["dbname"]],
        capture_output=True, check=True, env={"PGPASSWORD": params.get("password") or "", "PATH": "/usr/bin:/bin"},
    ).stdout.decode()

    assert OTTO["email"] in dump  # the dump is real and holds the others
    assert _found(dump, ERIKAS_IDENTIFIERS) == []


def test_dry_run_lists_what_would_go_and_changes_nothing(world):
    before = every_stored_text()

    code, output = erase(ERIKA["name"], "--tenant", "muster", "--actor", "data_protection_officer", "--dry-run")

    assert code == 0, output
    assert f"Would erase name {ERIKA['name']}" in output
    assert str(world["items"]["erika_ticket"].pk) in output
    assert "placeholder in automations_workitem.payload: 1" in output  # Otto's ticket mentions her
    assert every_stored_text().count(ERIKA["email"]) == before.count(ERIKA["email"])
    assert not DataSubjectRequest.objects.exists()


def test_invoices_under_retention_duty_and_held_items_are_restricted_not_erased(world):
    tenant, items = world["tenant"], world["items"]
    held = items["otto_plain"]
    WorkItem.objects.filter(pk=held.pk).update(legal_hold=True)
    master_data.master_record_save(actor=world["team"]["automation_lead"], tenant=tenant, kind="customer",
                                   number="K-20003", name="Holzwurm privat", email=SUPPLIER["email"])

    code, output = erase(SUPPLIER["iban"], "--tenant", "muster", "--actor", "data_protection_officer")

    assert code == 0, output
    invoice = WorkItem.objects.get(pk=items["invoice"].pk)
    assert invoice.restricted and SUPPLIER["iban"] in invoice.payload["text"]  # kept as it was
    assert f"RESTRICTED instead of erased: rechnungen/{invoice.pk}" in output
    assert "statutory retention until" in output
    assert invoice not in work_item_list(tenant=tenant, user=world["team"]["automation_lead"])
    assert not MasterRecord.objects.filter(number=SUPPLIER["number"]).exists()
    assert run_verify("--tenant", "muster")[0] == 0


def test_a_legal_hold_restricts_the_persons_item(world):
    items = world["items"]
    WorkItem.objects.filter(pk=items["otto_plain"].pk).update(legal_hold=True)

    code, output = erase(OTTO["email"], "--tenant", "muster", "--actor", "data_protection_officer")

    assert code == 0, output
    assert f"tickets/{items['otto_plain'].pk}" in output and "legal hold" in output
    assert WorkItem.objects.get(pk=items["otto_plain"].pk).restricted
    assert not WorkItem.objects.filter(pk=items["otto_ticket"].pk).exists()


def test_a_name_of_several_people_is_refused_with_the_list(world):
    lead = world["team"]["automation_lead"]
    for number in ("K-1", "K-2"):
        master_data.master_record_save(actor=lead, tenant=world["tenant"], kind="customer", number=number,
                                       name="Hans Müller", email=f"hans{number}@example.org")

    code, message = erase("hans  müller", "--tenant", "muster", "--actor", "data_protection_officer")

    assert code == 1
    assert "matches several people" in message
    assert "Customer K-1: Hans Müller <hansK-1@example.org>" in message and "Customer K-2" in message
    assert MasterRecord.objects.filter(name="Hans Müller").count() == 2


@pytest.mark.parametrize("username", ["automation_lead", "clerk", "auditor"])
def test_only_the_data_protection_officer_may_erase(world, username):
    code, message = erase(ERIKA["email"], "--tenant", "muster", "--actor", username)
    assert code == 1 and "is not the data protection officer of muster" in message
    assert MasterRecord.objects.filter(number=ERIKA["number"]).exists()


def test_an_unknown_identifier_is_a_clear_error(world):
    code, message = erase("niemand@example.com", "--tenant", "muster", "--actor", "data_protection_officer")
    assert code == 1 and "Nothing stored in this tenant refers to niemand@example.com" in message


def test_a_superuser_without_the_role_in_the_tenant_may_not_erase(world, django_user_model):
    django_user_model.objects.create_superuser("admin", password="x-very-long-pass")
    code, message = erase(ERIKA["email"], "--tenant", "muster", "--actor", "admin")
    assert code == 1 and "admin is not the data protection officer of muster" in message
    assert MasterRecord.objects.filter(number=ERIKA["number"]).exists()
    assert not DataSubjectRequest.objects.exists()
