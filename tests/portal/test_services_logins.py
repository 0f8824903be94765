"""Failed logins in the audit log: a name that matches no account is kept only as a keyed digest."""
import hashlib

import pytest
from django.test import Client

from audit.models import AuditEvent
from portal.services import username_digest

pytestmark = pytest.mark.django_db


def _failed_logins() -> list[dict]:
    return [event.details for event in AuditEvent.objects.filter(event_type="user.login_failed").order_by("pk")]


def test_a_failed_login_for_an_unknown_name_keeps_a_keyed_digest_and_not_the_name(settings):
    client = Client()
    for name in ("Erika.Muster@example.com", "erika.muster@example.com", "max.muster@example.com"):
        client.post("/login/", {"username": name, "password": "falsch"})
    first, second, third = _failed_logins()
    assert all(details["known_user"] is False for details in (first, second, third))
    assert first["username_digest"] == second["username_digest"] != third["username_digest"]
    assert "muster" not in str(_failed_logins()).lower()
    # Keyed with the installation's secret (salted HMAC), so a digest cannot be recomputed from a name list
    # without it; not the plain SHA-256 over secret and name used before.
    plain = hashlib.sha256(f"{settings.SECRET_KEY}:erika.muster@example.com".encode()).hexdigest()[:16]
    assert first["username_digest"] != plain
    digest = first["username_digest"]
    settings.SECRET_KEY = "another-installation-" + "x" * 40
    assert username_digest("erika.muster@example.com") != digest
