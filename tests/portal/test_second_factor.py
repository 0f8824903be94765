"""Two-factor sign-in (django-otp): enrolment with a locally drawn QR code and a first code, recovery codes shown
once and used once, the code after the password, resets by an administrator or the ISB — all audited — and,
where enforced (production), no page for a privileged user before the second factor."""
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken

from audit.actors import SYSTEM
from audit.models import AuditEvent
from portal import services
from portal.choices import Role
from portal.middleware import SESSION_TENANT_KEY
from portal.models import TotpAuthenticator
from tests.portal.totp import device_secret, next_code, throttle_passed, totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "Geheim-12345"


def enrol(user) -> tuple[str, list[str]]:
    """Set up the user's authenticator through the services, as the set-up page does; (secret, recovery codes)."""
    device = services.totp_device_prepare(actor=user)
    secret = device_secret(device)
    _device, codes = services.second_factor_enrol(actor=user, code=totp_code(secret))
    return secret, codes


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("portal:login"), {"username": username, "password": password})


def events(event_type, **filters):
    return AuditEvent.objects.filter(event_type=event_type, **filters)


# --- Enrolment --------------------------------------------------------------------------------------

def test_enrolment_shows_a_local_qr_code_and_activates_with_a_first_code(client, tenant, member):
    lead = member(Role.AUTOMATION_LEAD, username="a.berger")
    client.force_login(lead)

    page = client.get(reverse("portal:two-factor-setup"))
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert '<svg width="' in body and 'class="qr-code"' in body  # drawn by the portal, no image from elsewhere
    assert "<img" not in body.split('class="qr-figure"')[1].split("</figure>")[0]
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', body).group(1)
    assert client.get(reverse("portal:two-factor-setup")).content.decode().count(secret) == 1  # same secret again

    response = client.post(reverse("portal:two-factor-setup"), {"code": totp_code(secret)})

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TotpAuthenticator.objects.get(user=lead).confirmed
    stored = set(StaticToken.objects.filter(device__user=lead).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & {code.replace("-", "") for code in codes}  # digests only
    assert events("second_factor.enrolled", tenant=tenant, object_id=str(lead.pk)).count() == 1
    assert client.get(reverse("portal:home")).status_code == 200  # the session itself passed the second factor


def test_a_wrong_first_code_is_refused_audited_and_nothing_is_activated(client, tenant, member):
    lead = member(Role.IT_OPERATOR)
    client.force_login(lead)
    client.get(reverse("portal:two-factor-setup"))
    secret = device_secret(TotpAuthenticator.objects.get(user=lead))
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("portal:two-factor-setup"), {"code": wrong})

    assert response.status_code == 400 and "nicht angenommen" in response.content.decode()
    assert not TotpAuthenticator.objects.get(user=lead).confirmed
    assert events("second_factor.refused", tenant=tenant, details__stage="enrolment").count() == 1
    assert not StaticToken.objects.filter(device__user=lead).exists()


def test_the_admin_shows_no_device_and_no_secret():
    from django.contrib import admin

    assert not admin.site.is_registered(TotpAuthenticator) and not admin.site.is_registered(StaticToken)


def test_the_system_and_tokens_do_not_enrol(member):
    with pytest.raises(PermissionDenied):
        services.totp_device_prepare(actor=SYSTEM)


# --- Sign-in with the second factor -----------------------------------------------------------------

def test_after_the_password_every_page_waits_for_the_code(client, tenant, member):
    lead = member(Role.DATA_PROTECTION_OFFICER, username="m.hoffmann")
    enrol(lead)

    assert sign_in(client, "m.hoffmann").status_code == 302
    for path in ("/", "/audit/", "/registry/", "/api-tokens/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("portal:two-factor-verify") + "?next="), path
    assert client.get("/api/v1/me/").status_code == 403  # the API does not take the half-signed-in session

    wrong = client.post(reverse("portal:two-factor-verify"), {"code": "000000", "next": "/audit/"})
    assert wrong.status_code == 400
    assert events("second_factor.refused", tenant=tenant, details__stage="sign_in").count() == 1
    throttle_passed(lead)  # django-otp lets the next try wait a second after a wrong code (doubling with each)

    before = client.session.session_key
    code = next_code(TotpAuthenticator.objects.get(user=lead))
    response = client.post(reverse("portal:two-factor-verify"), {"code": code, "next": "/audit/"})
    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert client.session.session_key != before and client.session[SESSION_KEY]
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_code_is_not_accepted_twice(client, member):
    lead = member(Role.AUTOMATION_LEAD, username="j.keller")
    secret, _codes = enrol(lead)
    sign_in(client, "j.keller")
    used = TotpAuthenticator.objects.get(user=lead).last_t  # the step of the code the enrolment took
    response = client.post(reverse("portal:two-factor-verify"), {"code": totp_code(secret, step=used)})
    assert response.status_code == 400


def test_a_recovery_code_signs_in_once_and_is_audited(client, tenant, member):
    officer = member(Role.SECURITY_OFFICER, username="p.neumann")
    _secret, codes = enrol(officer)

    sign_in(client, "p.neumann")
    response = client.post(reverse("portal:two-factor-verify"), {"code": codes[0].upper()}, follow=True)
    assert response.status_code == 200 and "9 sind übrig" in response.content.decode()
    used = events("recovery_code.used", tenant=tenant, object_id=str(officer.pk))
    assert used.count() == 1 and used.get().details["remaining"] == 9

    client.post(reverse("portal:logout"))
    sign_in(client, "p.neumann")
    again = client.post(reverse("portal:two-factor-verify"), {"code": codes[0]})
    assert again.status_code == 400
    assert client.get("/").status_code == 302
    throttle_passed(officer)  # the wait after a wrong code
    assert client.post(reverse("portal:two-factor-verify"), {"code": codes[1]}).status_code == 302


def test_new_recovery_codes_replace_the_earlier_ones(client, tenant, member):
    lead = member(Role.AUTOMATION_LEAD, username="a.berger")
    _secret, old = enrol(lead)
    sign_in(client, "a.berger")
    client.post(reverse("portal:two-factor-verify"), {"code": old[0]})

    response = client.post(reverse("portal:two-factor-recovery-codes"))

    new = re.findall(r"<code>([a-z2-7-]{19})</code>", response.content.decode())
    assert response.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert events("recovery_codes.generated", tenant=tenant).count() == 1
    client.post(reverse("portal:logout"))
    sign_in(client, "a.berger")
    assert client.post(reverse("portal:two-factor-verify"), {"code": old[1]}).status_code == 400
    throttle_passed(lead)  # the wait after a wrong code
    assert client.post(reverse("portal:two-factor-verify"), {"code": new[0]}).status_code == 302


def test_repeated_wrong_codes_make_the_device_wait(member):
    lead = member(Role.AUTOMATION_LEAD)
    enrol(lead)
    with pytest.raises(ValidationError):
        services.second_factor_verify(actor=lead, code="000000")
    # as after a series of wrong codes: django-otp doubles the wait with each one
    TotpAuthenticator.objects.filter(user=lead).update(throttling_failure_count=8)

    with pytest.raises(ValidationError, match=r"(?i)warten"):  # throttled: even the right code waits
        services.second_factor_verify(actor=lead, code=next_code(TotpAuthenticator.objects.get(user=lead)))
    assert events("second_factor.refused", details__throttled=True).exists()


# --- Reset --------------------------------------------------------------------------------------------

def test_the_isb_resets_a_members_second_factor_and_it_is_audited(client, tenant, member, make_tenant, make_user):
    officer = member(Role.SECURITY_OFFICER, username="p.neumann")
    clerk = member(Role.CLERK, username="l.fischer")
    enrol(clerk)
    client.force_login(officer)

    page = client.get(reverse("portal:login-security"))
    assert page.status_code == 200 and "l.fischer" in page.content.decode()
    response = client.post(reverse("portal:second-factor-reset", args=[clerk.pk]))

    assert response.status_code == 302
    assert not TotpAuthenticator.objects.filter(user=clerk).exists()
    assert not StaticToken.objects.filter(device__user=clerk).exists()
    reset = events("second_factor.reset", tenant=tenant, object_id=str(clerk.pk)).get()
    assert reset.actor_user_id == officer.pk

    # The ISB of another tenant, and nobody for themselves
    stranger_tenant = make_tenant()
    foreign_isb = make_user(tenant=stranger_tenant, roles=[Role.SECURITY_OFFICER])
    enrol(clerk)
    with pytest.raises(PermissionDenied):
        services.second_factor_reset(actor=foreign_isb, user=clerk, tenant=stranger_tenant)
    with pytest.raises(PermissionDenied):
        services.second_factor_reset(actor=officer, user=officer, tenant=tenant)


def test_a_clerk_may_not_reset_or_see_the_page(client, tenant, member):
    clerk = member(Role.CLERK)
    other = member(Role.CLERK)
    enrol(other)
    client.force_login(clerk)
    assert client.get(reverse("portal:login-security")).status_code == 403
    assert client.post(reverse("portal:second-factor-reset", args=[other.pk])).status_code == 403
    assert TotpAuthenticator.objects.filter(user=other).exists()


def test_an_operator_resets_a_superusers_second_factor_from_the_shell(db, make_user):
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    enrol(admin)
    call_command("reset_second_factor", "admin")
    assert not TotpAuthenticator.objects.filter(user=admin).exists()
    assert events("second_factor.reset", tenant=None, actor_kind="system").exists()


# --- Where it is enforced (production) ------------------------------------------------------------------

def _signed_in(client, user, tenant):
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()


@pytest.mark.parametrize("role", [Role.AUTOMATION_LEAD, Role.IT_OPERATOR, Role.SECURITY_OFFICER,
                                  Role.DATA_PROTECTION_OFFICER])
def test_enforced_a_privileged_user_without_a_device_is_sent_to_enrolment(client, tenant, member, settings, role):
    settings.TWO_FACTOR_ENFORCED = True
    _signed_in(client, member(role), tenant)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:two-factor-setup"))
    assert client.get(reverse("portal:two-factor-setup")).status_code == 200


def test_enforced_every_page_and_endpoint_waits_for_the_enrolment(client, tenant, member, settings):
    """Every route of the matrix (Django's resolver, tests/test_route_matrix.py), with every method: a page sends
    the privileged user to the set-up, the API refuses their session."""
    from tests.test_route_matrix import API, SIGN_IN, routes, sample_path

    settings.TWO_FACTOR_ENFORCED = True
    _signed_in(client, member(Role.AUTOMATION_LEAD, Role.IT_OPERATOR), tenant)
    setup = reverse("portal:two-factor-setup")
    open_steps = {"portal:two-factor-setup", "portal:two-factor-verify", "portal:logout"}
    checked = 0
    for name, route, pattern in routes():
        if name == "portal:logout":  # open before the second factor, and would end the session
            continue
        path = sample_path(route, pattern)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            where = f"{method.upper()} {path} ({name})"
            if name in SIGN_IN - open_steps:
                assert response.status_code == 302 and response["Location"].startswith(setup), where
                checked += 1
            elif name in API:
                assert response.status_code == 403, where
                assert response.json()["code"] == "second_factor_required", where
    assert checked > 150


def test_enforced_a_clerk_works_without_a_second_factor_and_sees_no_demo_note(client, tenant, member, settings):
    settings.TWO_FACTOR_ENFORCED = True
    _signed_in(client, member(Role.CLERK), tenant)
    response = client.get("/")
    assert response.status_code == 200 and "nicht erzwungen" not in response.content.decode()


def test_enforced_a_superuser_without_a_device_reaches_not_even_the_admin(client, make_user, settings):
    settings.TWO_FACTOR_ENFORCED = True
    admin = make_user("root")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    client.force_login(admin)
    for path in ("/admin/", "/security/logins/", "/tenant/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(reverse("portal:two-factor-setup"))


def test_not_enforced_a_privileged_user_sees_that_it_is_a_demo(client, tenant, member, settings):
    settings.TWO_FACTOR_ENFORCED = False
    _signed_in(client, member(Role.AUTOMATION_LEAD), tenant)
    response = client.get("/")
    assert response.status_code == 200
    assert "Zwei-Faktor nicht erzwungen (Demo)" in response.content.decode()
    _signed_in(client, member(Role.CLERK), tenant)
    assert "nicht erzwungen" not in client.get("/").content.decode()


def test_production_enforces_the_second_factor_and_logs_json_lines(tmp_path):
    from tests.portal.test_settings_production import manage, production_env

    probe = "from django.conf import settings; print(settings.TWO_FACTOR_ENFORCED, settings.LOG_FORMAT)"
    result = manage(production_env(tmp_path, TWO_FACTOR_ENFORCED="false"), "shell", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["True", "json"]  # not to be switched off in production
