"""Three indexes that no query uses go: the work items' on `release_id` and `created_by_id`, the runs' on
`release_id`. Items and runs are read by tenant, use case, status, content hash, external id, item and lease,
never by release or creator; releases are never deleted and users are deactivated, not deleted, so the
foreign keys' deletion checks do not need them either. Each index costs every row written (the bulk import
writes an item and its run per line). Only the indexes are dropped — Django's AlterField would also drop and
re-add the foreign keys, which checks every row of a large table again under lock."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "automations_workitem_release_id_c7308b7b": ("automations_workitem", "release_id"),
    "automations_workitem_created_by_id_2f85495c": ("automations_workitem", "created_by_id"),
    "automations_run_release_id_05e517c9": ("automations_run", "release_id"),
}


class Migration(migrations.Migration):

    dependencies = [
        ("automations", "0013_workitem_tenant_index_covered"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="workitem",
                    name="release",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                            to="automations.release", verbose_name="release"),
                ),
                migrations.AlterField(
                    model_name="workitem",
                    name="created_by",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                            to=settings.AUTH_USER_MODEL, verbose_name="created by"),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="release",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="runs",
                                            to="automations.release", verbose_name="release"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, (table, column) in INDEXES.items()
            ],
        ),
    ]
