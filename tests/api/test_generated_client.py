"""A client generated from /api/schema/ with openapi-python-client, as an ERP team would generate one,
posts an item, pulls the final results and acknowledges them against the served portal: proof that the
contract is usable as published."""
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from portal import services
from tests.automations.factories import make_rules_use_case, make_team

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
INVOICE_TEXT = "Rechnung, Rechnungsnummer 4711"  # the rules engine: invoice, confidence 0.75 -> applied


@pytest.fixture
def generated_client(tmp_path, monkeypatch):
    schema = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--lang", "en", "--file", str(schema))
    run = subprocess.run([str(GENERATOR), "generate", "--path", str(schema), "--meta", "none",
                          "--output-path", str(tmp_path / "leitplanke_client")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert (tmp_path / "leitplanke_client" / "client.py").exists(), run.stdout + run.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("leitplanke_client")


def test_a_generated_client_posts_pulls_and_acknowledges(generated_client, served, tenant, member, eager_tasks):
    from leitplanke_client.api.v1 import (
        v1_work_items_acknowledge_create,
        v1_work_items_create,
        v1_work_items_list,
        v1_work_items_retrieve,
    )
    from leitplanke_client.models import Problem, WorkItemAcknowledgeInput, WorkItemCreateInput
    from leitplanke_client.models.v1_work_items_list_status import V1WorkItemsListStatus

    team = make_team(member)
    make_rules_use_case(tenant, team)
    lead = team["automation_lead"]
    _, plain = services.api_token_create(actor=lead, tenant=tenant, user=lead, name="ERP")
    client = generated_client.AuthenticatedClient(base_url=served, token=plain)

    # The generated client sends this operation as a multipart form (the schema offers JSON and multipart),
    # where `payload` is a JSON text, as its description says.
    created = v1_work_items_create.sync_detailed(
        client=client, body=WorkItemCreateInput(use_case="belege", payload=json.dumps({"text": INVOICE_TEXT})))
    assert created.status_code == 201, created.content
    assert created.parsed.use_case == "belege"
    # The pipeline ran on commit, in the server's process (eager tasks): the item is final now.
    item = v1_work_items_retrieve.sync(id=created.parsed.id, client=client)
    assert item.status == "applied" and item.fields["document_class"]["value"] == "invoice"

    refused = v1_work_items_create.sync(client=client, body=WorkItemCreateInput(use_case="gibt-es-nicht",
                                                                                 payload=json.dumps({"text": "x"})))
    assert isinstance(refused, Problem) and refused.code == "refused"

    page = v1_work_items_list.sync(client=client, use_case="belege", status=V1WorkItemsListStatus.APPLIED,
                                   not_acknowledged_by="ERP")
    assert [result.id for result in page.results] == [item.id] and page.next_ is None

    acknowledged = v1_work_items_acknowledge_create.sync(id=item.id, client=client,
                                                         body=WorkItemAcknowledgeInput(consumer="ERP"))
    assert acknowledged.first is True
    again = v1_work_items_list.sync(client=client, use_case="belege", not_acknowledged_by="ERP")
    assert again.results == []
