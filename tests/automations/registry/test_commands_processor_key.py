import io

import pytest
from django.core.management import CommandError, call_command

from automations.choices import ChangeKind
from automations.models import ProcessorSecret
from automations.registry.services import changes
from tests.automations.factories import approve_all, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def processor(tenant, member):
    team = make_team(member)
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title="LLM", description="EU-Anbieter",
                                       payload={"key": "eu-llm", "fields": {"kind": "processor", "name": "EU LLM",
                                                                            "endpoint": "http://127.0.0.1:9/v1"}})
    approve_all(cr, team)
    return team


def test_key_is_read_from_stdin_and_stored_encrypted(processor, tenant, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-test-4711-geheim\n"))
    call_command("set_processor_key", "eu-llm", "--actor", "it_operator", "--tenant", tenant.slug)
    out = capsys.readouterr()
    assert "sk-test-4711-geheim" not in out.out + out.err
    secret = ProcessorSecret.objects.get(entry__key="eu-llm")
    assert "sk-test-4711-geheim" not in secret.ciphertext and secret.ciphertext


def test_a_clerk_may_not_set_a_key(processor, tenant, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-x\n"))
    with pytest.raises(CommandError):
        call_command("set_processor_key", "eu-llm", "--actor", "clerk", "--tenant", tenant.slug)
    assert not ProcessorSecret.objects.exists()
