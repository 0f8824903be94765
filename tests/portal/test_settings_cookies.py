"""Cookies a script in the page could abuse are out of its reach: the session and the CSRF token."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_csrf_and_session_cookies_are_not_readable_by_scripts(client, make_user):
    make_user("jemand")
    page = client.get(reverse("portal:login"))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()  # forms carry the token themselves
    assert page.cookies["csrftoken"]["httponly"] is True
    client.post(reverse("portal:login"), {"username": "jemand", "password": "Geheim-12345"})
    assert client.cookies["sessionid"]["httponly"] is True
    assert client.cookies["csrftoken"]["httponly"] is True
