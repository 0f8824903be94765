"""The authenticators' TOTP secrets are stored encrypted with the field keys (portal.models.TotpAuthenticator):
the table, as a raw SELECT or a dump reads it, holds ciphertext only; signing in with a code still works;
`manage.py rotate_secrets` re-encrypts them under the newest key (audited, resumable, `--check`), and devices
that django-otp stored in clear are moved over by the migration."""
import base64
import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as live_apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from audit.models import AuditEvent
from portal import field_keys, services
from portal.choices import Role
from portal.models import TotpAuthenticator
from tests.portal.totp import device_secret, next_code, totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "Geheim-12345"


def enrol(user) -> str:
    device = services.totp_device_prepare(actor=user)
    secret = device_secret(device)
    services.second_factor_enrol(actor=user, code=totp_code(secret))
    return secret


def raw_rows(table: str) -> list[tuple]:
    """What a raw SELECT (and so a pg_dump of the table) shows, column by column as text."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return [tuple(str(value) for value in row) for row in cursor.fetchall()]


def forms_of(secret_b32: str) -> set[str]:
    """The secret as it could be written down: base32 (as the set-up page shows it), hex (as django-otp stores
    it), and base64."""
    raw = base64.b32decode(secret_b32.replace(" ", ""))
    return {secret_b32.replace(" ", ""), raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode()}


def test_the_table_holds_ciphertext_only_and_sign_in_with_a_code_works(client, tenant, member):
    lead = member(Role.AUTOMATION_LEAD, username="a.berger")
    secret = enrol(lead)

    rows = raw_rows(TotpAuthenticator._meta.db_table)
    assert len(rows) == 1
    dumped = " ".join(rows[0])
    assert not any(form in dumped for form in forms_of(secret))
    stored = TotpAuthenticator.objects.values_list("key_ciphertext", flat=True).get(user=lead)
    assert stored in rows[0] and stored.startswith("gAAAA")  # a Fernet token
    assert bytes.fromhex(field_keys.decrypt(stored)) == base64.b32decode(secret)
    assert raw_rows(PlainTOTPDevice._meta.db_table) == []  # django-otp's clear-text table stays empty

    assert client.post(reverse("portal:login"), {"username": "a.berger", "password": PASSWORD}).status_code == 302
    assert client.get(reverse("portal:home"))["Location"].startswith(reverse("portal:two-factor-verify"))
    code = next_code(TotpAuthenticator.objects.get(user=lead))
    response = client.post(reverse("portal:two-factor-verify"), {"code": code, "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("portal:home")).status_code == 200
    wrong = f"{(int(next_code(TotpAuthenticator.objects.get(user=lead))) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError):
        services.second_factor_verify(actor=lead, code=wrong)


def test_rotate_secrets_re_encrypts_the_authenticators_under_the_newest_key(settings, tenant, member):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    lead, isb = member(Role.AUTOMATION_LEAD), member(Role.SECURITY_OFFICER)
    secrets = {user.pk: enrol(user) for user in (lead, isb)}
    before = dict(TotpAuthenticator.objects.values_list("user_id", "key_ciphertext"))

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    with pytest.raises(CommandError, match="not yet under the newest key"):
        call_command("rotate_secrets", "--check", stdout=out)
    assert "authenticators' secrets (TOTP): 2 to re-encrypt" in out.getvalue()
    assert dict(TotpAuthenticator.objects.values_list("user_id", "key_ciphertext")) == before

    out = io.StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "authenticators' secrets (TOTP): 2 re-encrypted, 0 already under the newest key" in out.getvalue()
    after = dict(TotpAuthenticator.objects.values_list("user_id", "key_ciphertext"))
    assert all(after[pk] != before[pk] and field_keys.is_current(after[pk]) for pk in after)
    assert AuditEvent.objects.filter(event_type="second_factor.rotated", tenant=tenant).count() == 2

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key retired: every code still works
    for user in (lead, isb):
        device = TotpAuthenticator.objects.get(user=user)
        assert device_secret(device) == secrets[user.pk]
        assert services.second_factor_verify(actor=user, code=next_code(device)) == device
    out = io.StringIO()
    call_command("rotate_secrets", "--check", stdout=out)
    assert "authenticators' secrets (TOTP): 0 to re-encrypt, 2 already under the newest key" in out.getvalue()


def test_an_authenticator_no_key_decrypts_is_named_and_the_run_fails(settings, member):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    lead = member(Role.AUTOMATION_LEAD, username="a.berger")
    enrol(lead)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match=r"authenticators of a\.berger"):
        call_command("rotate_secrets", stdout=io.StringIO())


def test_the_migration_moves_clear_text_devices_into_encrypted_ones(member):
    """Devices django-otp stored in clear (before this version) become authenticators with the same secret,
    counters and state, and leave django-otp's table."""
    lead = member(Role.AUTOMATION_LEAD)
    plain = PlainTOTPDevice.objects.create(user=lead, name="authenticator", confirmed=True, last_t=123, drift=1)
    hex_key = plain.key
    migration = importlib.import_module("portal.migrations.0004_authenticator_encrypted")

    migration.encrypt_plain_devices(live_apps, connection.schema_editor())

    assert not PlainTOTPDevice.objects.exists()
    moved = TotpAuthenticator.objects.get(user=lead)
    assert (moved.key, moved.confirmed, moved.last_t, moved.drift) == (hex_key, True, 123, 1)
    assert hex_key not in " ".join(" ".join(row) for row in raw_rows(TotpAuthenticator._meta.db_table))
