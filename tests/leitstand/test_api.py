"""`GET /api/v1/leitstand/`: the same numbers as the pages and the CSV, for programs with a read token."""
import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leitstand.services import daily_figures_refresh_range
from portal import services
from portal.choices import TokenScope
from tests.access import login
from tests.leitstand.builders import one_day
from tests.leitstand.conftest import DAY

pytestmark = pytest.mark.django_db


def api_for(user, tenant) -> APIClient:
    _token, plain = services.api_token_create(actor=user, tenant=tenant, user=user, name="leitstand",
                                              scopes=[TokenScope.READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def test_the_api_gives_the_csvs_numbers(client, tenant, team, use_case):
    one_day(use_case, DAY, team["clerk"])
    daily_figures_refresh_range(tenant=tenant, since=DAY, until=DAY)
    query = f"?since={(DAY - timedelta(days=1)).isoformat()}&until={DAY.isoformat()}"
    body = api_for(team["automation_lead"], tenant).get(reverse("api:leitstand") + query + "&use_case=belege").json()
    login(client, team["automation_lead"], tenant)
    rows = list(csv.DictReader(io.StringIO(
        client.get(reverse("leitstand:use-case-export", args=["belege"]) + query).content.decode())))
    assert (body["since"], body["until"], body["use_case"]) == ((DAY - timedelta(days=1)).isoformat(),
                                                                 DAY.isoformat(), "belege")
    assert [day["day"] for day in body["days"]] == [row["day"] for row in rows]
    for day, row in zip(body["days"], rows):
        assert {key: "" if value is None else str(value) for key, value in day.items()} == row
    assert body["days"][1]["received"] == 4 and body["days"][1]["auto_share"] == round(1 / 3, 4)
    assert body["steps"] == [{"step": "extract", "failed": 2}]
    assert {"use_case": "belege", "field": "category", "corrected": 1, "reviewed": 2,
            "correction_rate": 0.5} in body["fields"]


def test_the_api_refuses_clerks_bad_periods_and_unknown_use_cases(tenant, team, use_case):
    assert api_for(team["clerk"], tenant).get(reverse("api:leitstand")).status_code == 403
    lead = api_for(team["automation_lead"], tenant)
    assert lead.get(reverse("api:leitstand")).status_code == 200
    bad = lead.get(reverse("api:leitstand") + "?since=2026-12-01&until=2026-11-01")
    assert bad.status_code == 400 and "json" in bad["Content-Type"]  # a problem in JSON, never a page
    assert lead.get(reverse("api:leitstand") + "?since=gestern").status_code == 400
    assert lead.get(reverse("api:leitstand") + "?use_case=fremd").status_code == 404
    assert APIClient().get(reverse("api:leitstand")).status_code == 401
