"""Quality's pages and endpoints: who may see and do what, and nothing of another tenant."""
from datetime import timedelta

import pytest
from django.urls import reverse

from automations.models import UseCase, UseCaseReview
from automations.quality import services
from portal.choices import Role
from tests.automations.factories import make_rules_use_case
from tests.automations.quality.test_backtest import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviews(tenant, team, make_tenant, make_user):
    use_case = make_rules_use_case(tenant, team, department_owner=team["department_owner"], review_interval_days=1)
    UseCase.objects.filter(pk=use_case.pk).update(created_at=use_case.created_at - timedelta(days=2))
    services.use_case_reviews_schedule()
    other = make_tenant("anders", "Anders AG")
    outsider = make_user("aussen", tenant=other, roles=[Role.AUTOMATION_LEAD])
    return {"review": UseCaseReview.objects.get(use_case=use_case), "other": other, "outsider": outsider}


def test_who_sees_and_completes_a_review(tenant, team, reviews, login, client):
    review = reviews["review"]
    detail = reverse("automations:use-case-review-detail", args=["belege", review.pk])
    listing = reverse("automations:use-case-review-list", args=["belege"])
    assert login(team["clerk"], tenant).get(listing).status_code == 403  # clerks do not review use cases
    client.logout()
    auditor = login(team["auditor"], tenant)
    page = auditor.get(detail)
    assert page.status_code == 200 and 'id="review-form"' not in page.content.decode()  # reads, never records
    assert auditor.post(detail, {"outcome": "continue"}).status_code in (400, 403)
    assert UseCaseReview.objects.get(pk=review.pk).state == "due"
    client.logout()
    assert 'id="review-form"' in login(team["department_owner"], tenant).get(detail).content.decode()


def test_another_tenant_finds_nothing(tenant, team, reviews, login):
    outsider = login(reviews["outsider"], reviews["other"])
    review = reviews["review"]
    assert outsider.get(reverse("automations:use-case-review-detail", args=["belege", review.pk])).status_code == 404
    assert outsider.get(reverse("automations:quality-breaker-reset", args=["belege"])).status_code == 404
    api = api_client(reviews["outsider"], reviews["other"])
    assert api.get(reverse("api:use-case-review-detail", args=[review.pk])).status_code == 404
    assert api.get(reverse("api:use-case-review-list")).json()["results"] == []
    assert api.post(reverse("api:use-case-review-complete", args=[review.pk]), {}, format="json").status_code == 404
    assert api.post(reverse("api:use-case-threshold-backtest", args=["belege"]),
                    {"thresholds": {}}, format="json").status_code == 404
