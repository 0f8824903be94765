import pytest

from portal.middleware import SESSION_TENANT_KEY
from tests.automations.factories import make_team


@pytest.fixture
def team(member):
    return make_team(member)


@pytest.fixture
def login(client):
    """Log `user` in with `tenant` as the active tenant of the session; returns the client."""

    def log_in(user, tenant):
        client.force_login(user)
        session = client.session
        session[SESSION_TENANT_KEY] = tenant.pk
        session.save()
        return client

    return log_in
