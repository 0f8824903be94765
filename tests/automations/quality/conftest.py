import pytest

from portal.choices import Role
from portal.middleware import SESSION_TENANT_KEY
from tests.automations.factories import make_team


@pytest.fixture(autouse=True)
def eager_celery(eager_tasks):
    """In-process tasks (tests/conftest.py): a decision's breaker evaluation runs on commit, as a worker would."""


@pytest.fixture
def team(member):
    team = make_team(member)
    for name, person in team.items():
        person.email = f"{name}@muster.example"
        person.save(update_fields=["email"])
    team["clerk_2"] = member(Role.CLERK, username="clerk_2")
    return team


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
