"""Sign-in lockout (django-axes): by user name and by address, audited, lifted by an administrator or
after the cool-off; sessions rotate at sign-in and end after idle and absolute timeouts."""
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.actors import SYSTEM
from audit.models import AuditEvent
from portal import services
from portal.choices import Role
from portal.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY

pytestmark = pytest.mark.django_db
PASSWORD = "Geheim-12345"


def sign_in(client, username, password=PASSWORD, address="127.0.0.1"):
    return client.post(reverse("portal:login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_repeated_failures_lock_the_user_name_even_for_the_right_password(client, tenant, member, settings):
    user = member(Role.CLERK, username="k.klein")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        assert sign_in(client, "k.klein", "falsch-falsch").status_code in (200, 429)

    response = sign_in(client, "k.klein")
    assert response.status_code == 429
    assert "gesperrt" in response.content.decode() and int(response["Retry-After"]) == 15 * 60
    assert SESSION_KEY not in client.session
    # from another address too: the user name itself is locked
    assert sign_in(client, "k.klein", address="10.0.0.7").status_code == 429

    locked = AuditEvent.objects.filter(tenant=tenant, event_type="user.locked_out")
    assert locked.count() >= 1 and locked.first().object_id == str(user.pk)
    assert "127.0.0.1" not in str(locked.first().details)  # the address only as a keyed digest


def test_repeated_failures_from_one_address_lock_that_address(client, tenant, member, settings):
    member(Role.CLERK, username="r.richtig")
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"unbekannt{n}", "falsch-falsch", address="10.9.9.9")

    assert sign_in(client, "r.richtig", address="10.9.9.9").status_code == 429
    assert sign_in(client, "r.richtig", address="10.1.1.1").status_code == 302  # another address signs in
    assert AuditEvent.objects.filter(tenant=None, event_type="user.locked_out").exists()


def test_an_administrator_lifts_the_lock_and_it_is_audited(client, tenant, member, settings):
    member(Role.CLERK, username="k.klein")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "k.klein", "falsch-falsch", address="10.0.0.8")
    assert sign_in(client, "k.klein", address="10.0.0.9").status_code == 429

    call_command("unlock_login", "k.klein", "--address", "10.0.0.8")

    assert sign_in(client, "k.klein", address="10.0.0.8").status_code == 302
    assert AuditEvent.objects.filter(tenant=tenant, event_type="user.unlocked", actor_kind="system").exists()


def test_the_lock_ends_after_the_cool_off(client, tenant, member, settings):
    member(Role.CLERK, username="k.klein")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "k.klein", "falsch-falsch")
    assert sign_in(client, "k.klein").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=5))

    assert sign_in(client, "k.klein").status_code == 302


def test_a_successful_login_rotates_the_session_key(client, member):
    member(Role.CLERK, username="k.klein")
    client.get(reverse("portal:login"))
    client.session.save()
    before = client.session.session_key
    assert sign_in(client, "k.klein").status_code == 302
    assert client.session.session_key != before and client.session[SESSION_KEY]


@pytest.mark.parametrize("clock, seconds_ago", [(SESSION_SEEN_KEY, 31 * 60), (SESSION_STARTED_KEY, 11 * 60 * 60)])
def test_a_session_ends_after_the_idle_and_the_absolute_timeout(client, member, clock, seconds_ago):
    member(Role.CLERK, username="k.klein")
    sign_in(client, "k.klein")
    assert client.get(reverse("portal:home")).status_code == 200

    session = client.session
    session[clock] = int(time.time()) - seconds_ago
    session.save()

    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert SESSION_KEY not in client.session
    assert client.get(reverse("portal:home")).status_code == 302


def test_an_active_session_stays_signed_in(client, member):
    member(Role.CLERK, username="k.klein")
    sign_in(client, "k.klein")
    session = client.session
    session[SESSION_SEEN_KEY] = int(time.time()) - 29 * 60
    session.save()
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.session[SESSION_SEEN_KEY] >= int(time.time()) - 5  # the idle clock starts again


def test_weak_passwords_are_refused(db):
    for weak in ("kurz", "1234567890123", "password1234"):
        with pytest.raises(ValidationError):
            services.user_create(actor=SYSTEM, username="neu", password=weak)
