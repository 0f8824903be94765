"""The training pages as the core team meets them, and their access matrix: anonymous (log-in page), a
member without the permission (403), a permitted member (the page, or the redirect after a write), and
another tenant's use case (404). A URL of automations.training.views without a row here fails the suite."""
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from automations.models import LabelledExample, ThresholdSetVersion
from automations.training.services import classifier_train, examples_import, training_progress_record
from automations.urls import urlpatterns
from portal.choices import Role
from tests import access
from tests.access import assert_sent_to_login, row_id
from tests.automations.factories import make_team, make_use_case
from tests.conftest import in_tenant

from .conftest import demo_rows, quick_parameters

pytestmark = pytest.mark.django_db

TICKETS = {"input_fields": [{"name": "subject", "type": "text"}, {"name": "body", "type": "long_text"}],
           "output_fields": [{"name": "queue", "type": "category", "choices": ["technik", "rechnung"]},
                             {"name": "priority", "type": "category", "choices": ["hoch", "mittel", "niedrig"]}]}


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _upload_data(world):
    return {"file": upload("t.csv", "subject,body,queue\nDrucker,Papierstau,technik\n"),
            "text_columns": "subject,body", "label_columns": "queue"}


@dataclass(frozen=True)
class Row(access.Row):
    """`obj`: "version", the URL names the trained classifier version besides the use case."""

    permission: str | None = "automations.view_classifierversion"


EXAMPLES, ADD_EXAMPLES = "automations.view_labelledexample", "automations.add_labelledexample"
MATRIX = [
    Row("automations:training", permission=EXAMPLES),
    Row("automations:training-upload", "post", ADD_EXAMPLES, data=_upload_data),
    Row("automations:training-start", "post", "automations.add_classifierversion", ok=302),
    Row("automations:training-progress"),
    Row("automations:classifier-version-list"),
    Row("automations:classifier-version-detail", obj="version"),
    Row("automations:classifier-version-propose", "post", "automations.add_thresholdsetversion", ok=302,
        obj="version"),
]


@pytest.fixture
def world(tenant, make_tenant, member):
    """Two tenants with the same people in the same roles; in the first, a use case with examples and a
    trained version; in the second, a use case of another key."""
    team = make_team(member)
    other = make_tenant("anderes", "Andere AG")
    access.same_team_in(other, team, tenant)
    lead = team["automation_lead"]
    use_case = make_use_case(tenant, lead, key="tickets", **TICKETS)
    make_use_case(other, lead, key="fremd", **TICKETS)
    examples_import(actor=lead, use_case=use_case, rows_iter=demo_rows("service_tickets.csv", 60),
                    text_columns="subject,body", label_columns="queue")
    version = classifier_train(actor=lead, use_case=use_case, parameters=quick_parameters())
    return {"tenant": tenant, "other": other, "team": team, "use_case": use_case, "version": version}


def _request(client, world, row, key="tickets"):
    args = [key, world["version"].number] if row.obj == "version" else [key]
    return access.send(client, row, reverse(row.url_name, args=args), world)


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """The train button queues a task; here nothing runs it."""
    from automations.training import tasks

    sent = []
    monkeypatch.setattr(tasks.train_classifier_task, "delay", lambda *args: sent.append(args))
    return sent


def test_every_training_url_has_a_row_in_the_matrix():
    named = {p.name for p in urlpatterns if p.callback.__module__ == "automations.training.views"}
    assert access.urls_without_row(named, MATRIX, "automations") == set()
    assert {row.url_name.removeprefix("automations:") for row in MATRIX} <= named


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_anonymous_goes_to_the_login_page(client, world, row):
    assert_sent_to_login(_request(client, world, row))


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_clerk_without_the_permission_gets_403(client, world, row, login):
    clerk = world["team"][Role.CLERK]
    assert not in_tenant(clerk, world["tenant"]).has_perm(row.permission)
    login(clerk, world["tenant"])
    assert _request(client, world, row).status_code == 403


@pytest.mark.parametrize("row", [r for r in MATRIX if r.permission == "automations.view_classifierversion"],
                         ids=row_id)
def test_registry_readers_see_versions_but_not_the_examples(client, world, row, login):
    """The works council reads how well a classifier does; the customers' texts stay with the core team."""
    login(world["team"][Role.WORKS_COUNCIL], world["tenant"])
    assert _request(client, world, row).status_code == 200
    assert _request(client, world, MATRIX[0]).status_code == 403


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_permitted_member(client, world, row, login):
    login(world["team"]["automation_lead"], world["tenant"])
    response = _request(client, world, row)
    assert response.status_code == row.ok, response.content.decode()[:2000]


@pytest.mark.parametrize("row", MATRIX, ids=row_id)
def test_use_case_of_the_other_tenant_is_404(client, world, row, login):
    login(world["team"]["automation_lead"], world["tenant"])
    assert _request(client, world, row, key="fremd").status_code == 404
    assert not ThresholdSetVersion.objects.filter(tenant=world["other"]).exists()


# --- what the core team sees ------------------------------------------------------------------------------

def test_the_page_counts_examples_per_value_and_reports_conflicts(client, world, login):
    lead = world["team"]["automation_lead"]
    first = LabelledExample.objects.filter(use_case=world["use_case"]).first()
    other_queue = "rechnung" if first.labels["queue"] != "rechnung" else "technik"
    examples_import(actor=lead, use_case=world["use_case"], rows_iter=[{**first.texts, "queue": other_queue}],
                    text_columns="subject,body", label_columns="queue")
    login(lead, world["tenant"])
    page = client.get(reverse("automations:training", args=["tickets"])).content.decode()

    assert "61 examples" in page and "61 imported" in page
    counts = {}
    for example in LabelledExample.objects.filter(use_case=world["use_case"]):
        counts[example.labels["queue"]] = counts.get(example.labels["queue"], 0) + 1
    for value, count in counts.items():
        assert f"<td>{value}</td><td class=\"numeric\">{count}</td>" in page
    assert "With conflicting labels: 1" in page and f"queue = {other_queue}" in page
    assert "No labels yet: this field is not trained." in page  # priority
    assert 'id="versions"' in page and "v1</a>" in page


def test_an_upload_reports_bad_lines_with_their_numbers(client, world, login):
    login(world["team"]["automation_lead"], world["tenant"])
    text = ("subject;body;queue\n"
            "Drucker;Der Drucker druckt nicht;technik\n"  # line 2
            ";;technik\n"                                  # line 3: no text
            "Rechnung;Betrag falsch;\n"                    # line 4: no label
            "Gartenbank;Lieferung fehlt;garten\n")          # line 5: a new queue
    response = client.post(reverse("automations:training-upload", args=["tickets"]),
                           {"file": upload("excel.csv", text), "text_columns": "subject,body",
                            "label_columns": "queue"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "4 rows read, 2 examples imported" in page
    assert '<td class="numeric">3</td><td>no text in subject, body</td>' in page
    assert '<td class="numeric">4</td><td>empty label in queue</td>' in page
    assert "Added choices to queue: garten" in page
    assert LabelledExample.objects.filter(use_case=world["use_case"], source_ref="excel.csv:5").exists()


def test_an_upload_with_unknown_columns_keeps_the_form_and_says_why(client, world, login):
    login(world["team"]["automation_lead"], world["tenant"])
    response = client.post(reverse("automations:training-upload", args=["tickets"]),
                           {"file": upload("x.csv", "text,queue\nabc,technik\n"), "text_columns": "subject",
                            "label_columns": "department"})
    assert response.status_code == 400
    assert "unknown: department" in response.content.decode()


def test_the_train_button_queues_one_run_and_shows_its_progress(client, world, login, no_worker,
                                                                django_capture_on_commit_callbacks):
    lead = world["team"]["automation_lead"]
    login(lead, world["tenant"])
    url = reverse("automations:training-start", args=["tickets"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and no_worker == [(world["use_case"].pk, lead.pk)]

    page = client.get(reverse("automations:training", args=["tickets"])).content.decode()
    assert "queued" in page and "waiting for a worker" in page
    assert 'hx-trigger="every 3s"' in page and 'http-equiv="refresh"' in page
    assert 'id="train" disabled' in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert len(no_worker) == 1  # not twice while one is queued
    assert "already queued or running" in client.get(reverse("automations:training", args=["tickets"])).content.decode()


def test_the_progress_block_follows_the_worker(client, world, login):
    login(world["team"]["automation_lead"], world["tenant"])
    url = reverse("automations:training-progress", args=["tickets"])
    use_case = world["use_case"]

    training_progress_record(use_case=use_case, state="running", message="queue: held-out evaluation", fraction=0.4)
    running = client.get(url).content.decode()
    assert 'value="40"' in running and "queue: held-out evaluation" in running and "hx-get" in running

    training_progress_record(use_case=use_case, state="done", fraction=1.0, version_id=world["version"].pk,
                             version_number=1)
    done = client.get(url).content.decode()
    assert "hx-get" not in done  # polling stops
    assert reverse("automations:classifier-version-detail", args=["tickets", 1]) in done
    assert client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"  # the page reloads once


def test_a_run_silent_for_longer_than_a_task_may_last_is_shown_as_interrupted(client, world, login, settings):
    login(world["team"]["automation_lead"], world["tenant"])
    training_progress_record(use_case=world["use_case"], state="running", message="queue", fraction=0.2)
    settings.CELERY_TASK_TIME_LIMIT = -1
    page = client.get(reverse("automations:training", args=["tickets"])).content.decode()
    assert "interrupted" in page and 'id="train" disabled' not in page


def test_the_version_page_shows_the_evaluation_and_proposes_thresholds(client, world, login):
    login(world["team"]["automation_lead"], world["tenant"])
    version = world["version"]
    page = client.get(reverse("automations:classifier-version-detail", args=["tickets", version.number])).content
    page = page.decode()
    evaluation = version.evaluation["fields"]["queue"]
    assert "Confusion matrix" in page and "Calibration per confidence band" in page
    assert f"{evaluation['macro_f1']:.3f}" in page and version.training_data_hash in page
    assert "priority is not trained" in page

    response = client.post(reverse("automations:classifier-version-propose", args=["tickets", version.number]))
    proposal = ThresholdSetVersion.objects.get(use_case=world["use_case"])
    assert response["Location"] == reverse("automations:version-detail", args=["tickets", "threshold_set",
                                                                              proposal.number])
    assert not proposal.is_frozen and "queue" in proposal.thresholds



def test_starting_a_training_on_a_handful_of_examples_warns(client, world, login, no_worker):
    lead = world["team"]["automation_lead"]
    use_case = make_use_case(world["tenant"], lead, key="wenige", **TICKETS)
    examples_import(actor=lead, use_case=use_case, rows_iter=demo_rows("service_tickets.csv", 2),
                    text_columns="subject,body", label_columns="queue")
    login(lead, world["tenant"])
    page = client.post(reverse("automations:training-start", args=["wenige"]), follow=True).content.decode()
    assert "Training was queued" in page and "Only 2 labelled examples" in page
    version_page = client.get(reverse("automations:classifier-version-detail",
                                      args=["tickets", world["version"].number])).content.decode()
    assert 'id="few-examples"' not in version_page  # 60 examples: no warning
