"""The Django admin shows every record read-only, scoped to the active tenant for staff members."""
import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from portal.choices import Role

pytestmark = pytest.mark.django_db

OUR_APPS = ("portal", "audit", "automations", "reviews")
# Second factors are set up and reset only through the portal's audited pages: their records have no admin.
NO_ADMIN = {"TotpAuthenticator"}


def _our_models():
    return [m for app in OUR_APPS for m in apps.get_app_config(app).get_models()
            if not m.__name__.startswith("Historical") and m.__name__ not in NO_ADMIN]


def test_second_factors_have_no_admin():
    from portal.models import TotpAuthenticator

    assert TotpAuthenticator not in admin.site._registry


def test_every_record_is_in_the_admin():
    assert [m.__name__ for m in _our_models() if m not in admin.site._registry] == []


@pytest.fixture
def world(tenant, member, eager_tasks, run_on_commit):
    from automations.execution.services import intake
    from tests.automations.factories import make_rules_use_case, make_team

    team = make_team(member)
    make_rules_use_case(tenant, team)
    run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                  payload={"text": "Rechnung Rechnungsnummer 1"})
    return team


def test_superuser_sees_every_changelist_and_can_change_nothing(client, world, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-very-long-pass")
    client.force_login(root)
    for model in _our_models():
        opts = model._meta
        listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert listing.status_code == 200, model.__name__
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403, model.__name__
        row = model.objects.first()
        if row is not None:
            page = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
            assert page.status_code == 200 and 'name="_save"' not in page.content.decode(), model.__name__


def test_staff_member_sees_only_the_active_tenants_rows(client, world, tenant, make_tenant, make_user):
    from automations.models import UseCase

    other = make_tenant()
    outsider = make_user(tenant=other, roles=[Role.AUTOMATION_LEAD])
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    page = client.get(reverse("admin:automations_usecase_changelist"))
    assert page.status_code == 200
    assert UseCase.objects.get(tenant=tenant).title not in page.content.decode()
    insider = world["automation_lead"]
    insider.is_staff = True
    insider.save()
    client.force_login(insider)
    assert UseCase.objects.get(tenant=tenant).title in client.get(
        reverse("admin:automations_usecase_changelist")).content.decode()


def test_secret_columns_are_never_shown(client, django_user_model):
    from automations.admin import SECRETS

    root = django_user_model.objects.create_superuser("root", password="x-very-long-pass")
    client.force_login(root)
    from audit.admin import SECRETS as AUDIT_SECRETS

    for model_name, columns in {**SECRETS, **AUDIT_SECRETS}.items():
        model = next(m for m in _our_models() if m.__name__ == model_name)
        model_admin = admin.site._registry[model]
        assert set(columns) <= set(model_admin.exclude)


def test_change_pages_of_stored_files_and_classifier_versions_open(client, tenant, member, eager_tasks, run_on_commit,
                                                                  django_user_model, tmp_path):
    """A record with a stored file (an item's upload, a classifier's artifact) opens read-only: no 500."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from automations.execution.services import intake
    from automations.models import ClassifierVersion, WorkItemFile
    from automations.training.services import classifier_train, examples_import
    from tests.automations.factories import make_rules_use_case, make_team, make_use_case
    from tests.automations.training.conftest import demo_rows, quick_parameters, write_csv

    team = make_team(member)
    make_rules_use_case(tenant, team)
    run_on_commit(intake.work_item_create, actor=team["it_operator"], tenant=tenant, use_case_key="belege",
                  files=[SimpleUploadedFile("beleg.txt", b"Rechnung Rechnungsnummer 1", "text/plain")])
    tickets = make_use_case(tenant, team["automation_lead"], key="tickets",
                            input_fields=[{"name": "subject", "type": "text"}, {"name": "body", "type": "long_text"}],
                            output_fields=[{"name": "queue", "type": "category", "choices": ["technik", "rechnung"]}])
    examples_import(actor=team["automation_lead"], use_case=tickets,
                    file=write_csv(tmp_path / "t.csv", demo_rows("service_tickets.csv", 120)),
                    text_columns="subject,body", label_columns="queue")
    classifier_train(actor=team["automation_lead"], use_case=tickets, parameters=quick_parameters())
    root = django_user_model.objects.create_superuser("root", password="x-very-long-pass")
    client.force_login(root)
    for model in (WorkItemFile, ClassifierVersion):
        row = model.objects.get()
        opts = model._meta
        page = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        assert page.status_code == 200, model.__name__
        assert 'name="_save"' not in page.content.decode()
