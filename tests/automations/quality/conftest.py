import pytest

from portal.choices import Role
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
