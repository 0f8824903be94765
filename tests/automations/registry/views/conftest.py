import pytest

from tests import access
from tests.automations.factories import make_team


@pytest.fixture
def team(member):
    return make_team(member)


@pytest.fixture
def login(client):
    """Log `user` in with `tenant` as the active tenant of the session; returns the client."""
    return lambda user, tenant: access.login(client, user, tenant)
