"""Bootstrapping a production set-up from the shell: create_tenant, create_user (README, "Production")."""
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from portal.choices import Role
from portal.models import Tenant
from portal.selectors import roles_of

pytestmark = pytest.mark.django_db


def run(monkeypatch, *args, stdin="Ein-sicheres-Passwort-42\n") -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_first_tenant_and_automation_lead(monkeypatch):
    assert "Tenant beispiel (Beispiel AG) created." in run(monkeypatch, "create_tenant", "beispiel", "Beispiel AG")
    out = run(monkeypatch, "create_user", "m.mustermann", "--tenant", "beispiel", "--roles",
              "automation_lead,it_operator")
    assert "User m.mustermann created with roles automation_lead, it_operator in beispiel." in out
    tenant = Tenant.objects.get(slug="beispiel")
    user = authenticate(username="m.mustermann", password="Ein-sicheres-Passwort-42")
    assert user is not None and not user.is_superuser
    assert roles_of(user=user, tenant=tenant) == [Role.AUTOMATION_LEAD, Role.IT_OPERATOR]
    types = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"tenant.created", "user.created", "membership.created"} <= types


def test_superuser_without_tenant(monkeypatch):
    run(monkeypatch, "create_user", "root", "--superuser")
    assert get_user_model().objects.get(username="root").is_superuser


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--tenant", "beispiel"], "Ein-sicheres-Passwort-42\n", "--tenant and --roles go together"),
        (["--tenant", "beispiel", "--roles", "chef"], "Ein-sicheres-Passwort-42\n", "Unknown roles: chef"),
        (["--tenant", "nirgends", "--roles", "clerk"], "Ein-sicheres-Passwort-42\n", "No active tenant"),
        (["--tenant", "beispiel", "--roles", "clerk"], "12345\n", "too short"),
    ],
)
def test_refusals_create_nothing(monkeypatch, args, stdin, message):
    run(monkeypatch, "create_tenant", "beispiel", "Beispiel AG")
    with pytest.raises(CommandError, match=message):
        run(monkeypatch, "create_user", "neu", *args, stdin=stdin)
    assert not get_user_model().objects.filter(username="neu").exists()


def test_duplicate_tenant_and_user_are_refused(monkeypatch):
    run(monkeypatch, "create_tenant", "beispiel", "Beispiel AG")
    with pytest.raises(CommandError, match="exists already"):
        run(monkeypatch, "create_tenant", "beispiel", "Noch eine AG")
    run(monkeypatch, "create_user", "neu")
    with pytest.raises(CommandError, match="already exists"):
        run(monkeypatch, "create_user", "neu")


def test_grant_first_role_starts_a_tenant_and_is_refused_once_the_role_has_a_holder(monkeypatch):
    run(monkeypatch, "create_tenant", "beispiel", "Beispiel AG")
    run(monkeypatch, "create_user", "leitung", "--tenant", "beispiel", "--roles", "automation_lead")
    run(monkeypatch, "create_user", "dsb")
    run(monkeypatch, "create_user", "dsb2")
    out = run(monkeypatch, "grant_first_role", "dsb", "data_protection_officer", "--tenant", "beispiel")
    assert "dsb now holds data_protection_officer in beispiel." in out
    tenant = Tenant.objects.get(slug="beispiel")
    assert roles_of(user=get_user_model().objects.get(username="dsb"), tenant=tenant) == [
        Role.DATA_PROTECTION_OFFICER]
    with pytest.raises(CommandError, match="already has a holder"):
        run(monkeypatch, "grant_first_role", "dsb2", "data_protection_officer", "--tenant", "beispiel")
    with pytest.raises(CommandError, match="already has a holder"):
        run(monkeypatch, "create_user", "leitung2", "--tenant", "beispiel", "--roles", "automation_lead")
    assert not get_user_model().objects.filter(username="leitung2").exists()


def test_grant_first_role_keeps_author_and_controlling_roles_apart(monkeypatch):
    run(monkeypatch, "create_tenant", "beispiel", "Beispiel AG")
    run(monkeypatch, "create_user", "leitung", "--tenant", "beispiel", "--roles", "automation_lead")
    with pytest.raises(CommandError, match="not held by one person"):
        run(monkeypatch, "grant_first_role", "leitung", "security_officer", "--tenant", "beispiel")
    with pytest.raises(CommandError, match="not held by one person"):
        run(monkeypatch, "create_user", "beide", "--tenant", "beispiel", "--roles", "department_owner,auditor")
