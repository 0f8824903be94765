"""Pseudonyms of many people at once: found or created in one statement, the same pseudonym as one at a time,
the identifier recoverable by the DSB (reveal) until erasure."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Pseudonym
from audit.selectors.pseudonyms import pseudonym_lookup, reveal
from audit.services.pseudonyms import payload_pseudonyms, pseudonym_for, pseudonyms_for_many
from portal.choices import Role
from tests.automations.factories import make_use_case

pytestmark = pytest.mark.django_db


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_known_and_new_people_are_found_and_created_in_one_statement(tenant):
    known = pseudonym_for(tenant=tenant, kind="email", identifier="anna.alt@example.org")
    pairs = {("email", "Anna.Alt@example.org"), ("email", "bernd.neu@example.org"), ("iban", "DE89370400440532013000")}
    with CaptureQueriesContext(connection) as context:
        found = pseudonyms_for_many(tenant=tenant, identifiers=pairs)
    assert len(_statements(context)) == 1, _statements(context)
    assert found[("email", "Anna.Alt@example.org")] == known  # normalised: the same person
    assert len(set(found.values())) == 3
    bernd = pseudonym_lookup(tenant=tenant, kind="email", identifier="bernd.neu@example.org")
    assert bernd is not None and bernd.pseudonym == found[("email", "bernd.neu@example.org")]
    assert reveal(bernd) == "bernd.neu@example.org"
    # Asked again: nothing new, the same answers.
    assert pseudonyms_for_many(tenant=tenant, identifiers=pairs) == found
    assert Pseudonym.objects.filter(tenant=tenant).count() == 3


def test_the_same_person_in_another_tenant_has_another_pseudonym(tenant, make_tenant):
    other = make_tenant()
    pair = ("email", "anna.alt@example.org")
    assert pseudonyms_for_many(tenant=tenant, identifiers=[pair]) != pseudonyms_for_many(tenant=other,
                                                                                          identifiers=[pair])


def test_an_items_personal_fields_are_pseudonymised_in_one_statement(tenant, member):
    lead = member(Role.AUTOMATION_LEAD)
    use_case = make_use_case(tenant, lead, key="anfragen", input_fields=[
        {"name": "text", "type": "long_text"},
        {"name": "sender", "type": "email", "personal_data": True, "category": "contact"},
        {"name": "iban", "type": "iban", "personal_data": True, "category": "bank"},
        {"name": "note", "type": "email"},  # not declared personal data: not a subject
    ])
    payload = {"text": "Bitte erstatten", "sender": "c.kunde@example.org", "iban": "DE89370400440532013000",
               "note": "x@example.org"}
    with CaptureQueriesContext(connection) as context:
        subjects = payload_pseudonyms(tenant=tenant, use_case=use_case, payload=payload)
    assert len(_statements(context)) == 1
    assert subjects == sorted([pseudonym_for(tenant=tenant, kind="email", identifier="c.kunde@example.org"),
                               pseudonym_for(tenant=tenant, kind="iban", identifier="DE89370400440532013000")])
    assert pseudonym_lookup(tenant=tenant, kind="email", identifier="x@example.org") is None
