"""Department owners no longer change every use case by their role: each keeps changing the use cases that
name them as their department owner, as an object permission (django-guardian). Clerks get nothing here:
the automation lead grants them teams or queues (fail closed)."""
from django.db import migrations


def grant_named_owners(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    UseCase = apps.get_model("automations", "UseCase")
    content_type = ContentType.objects.filter(app_label="automations", model="usecase").first()
    permission = Permission.objects.filter(content_type=content_type, codename="change_usecase").first()
    if content_type is None or permission is None:  # a new database: nothing to keep
        return
    for use_case in UseCase.objects.exclude(department_owner=None).only("pk", "department_owner_id"):
        UserObjectPermission.objects.get_or_create(permission=permission, content_type=content_type,
                                                   object_pk=str(use_case.pk), user_id=use_case.department_owner_id)


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0005_review_teams"),
        ("automations", "0007_change_request_membership_roles"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_named_owners, migrations.RunPython.noop)]
