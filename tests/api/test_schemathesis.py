"""The API as an integrator meets it: Schemathesis generates requests from /api/schema/ against the served
portal (a live server on loopback, real PostgreSQL) as an automation lead and as a clerk — its examples,
coverage, fuzzing and stateful phases with every check: no server error, only documented statuses, content
types and headers, bodies that match their schema, schema-valid requests accepted and schema-violating ones
rejected. Bounded: a few examples per operation (about four minutes for the lead, one for the clerk)."""
import subprocess
import sys
from pathlib import Path

import pytest

from portal import services
from portal.choices import Role
from reviews.services import review_queue_ensure
from tests.automations.factories import make_rules_use_case, make_team
from tests.reviews.factories import join_team

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Revoking the token the run is made with would end the run: the only operation left out.
EXCLUDE = "/api-tokens/.*/revoke/"

# What a schema cannot say, told to Schemathesis as its configuration recommends:
# - values that name the tenant's own data (a use case key, a queue id) are valid only if they exist; the
#   run is given real ones. An unknown one is a 400 naming the parameter (README, "Filters").
# - a cursor is opaque: only one the API handed out is valid (an invented one is a 400 `invalid_cursor`);
#   the run starts at the first page.
# - an item needs input: a JSON request its `payload`, a multipart one a file or a `payload` — a rule across
#   two fields that OpenAPI 3.0 cannot state, so a schema-valid form with neither is refused with a 400.
CONFIG = """
[parameters]
"query.use_case" = "{use_case}"
"query.queue" = "{queue}"
"query.cursor" = ""
"query.after" = ""

[[operations]]
include-path = "/api/v1/work-items/"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2XX", "400", "401", "403", "404", "409", "413", "415", "422"]
"""


# The coverage phase walks the boundaries of every parameter and body field (three of the four minutes a
# role takes): they are the same for every role, so the clerk's run leaves it to the lead's.
PHASES = {Role.AUTOMATION_LEAD: "examples,coverage,fuzzing,stateful", Role.CLERK: "examples,fuzzing,stateful"}


@pytest.fixture
def portal_state(tenant, member):
    team = make_team(member)
    use_case = make_rules_use_case(tenant, team)
    queue = review_queue_ensure(use_case=use_case)
    join_team(team["clerk"], use_case, team["automation_lead"])  # the clerk works the queue the run names
    return team, use_case, queue


@pytest.mark.parametrize("role", [Role.AUTOMATION_LEAD, Role.CLERK])
def test_schemathesis_finds_no_contract_failure(served, portal_state, tenant, role, tmp_path):
    team, use_case, queue = portal_state
    user = team[str(role)]
    _, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="schemathesis")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(use_case=use_case.key, queue=queue.pk))
    report = tmp_path / "junit.xml"
    run = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{served}/api/schema/?format=json",
         "--header", f"Authorization: Bearer {plain}", "--checks", "all", "--exclude-path-regex", EXCLUDE,
         "--phases", PHASES[role], "--max-examples", "3", "--workers", "1",
         "--seed", "22", "--request-timeout", "20", "--report", "junit", "--report-junit-path", str(report)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    tail = "\n".join(run.stdout.splitlines()[-400:])
    assert run.returncode == 0, tail
    assert "passed" in run.stdout, tail  # operations were exercised, not skipped
