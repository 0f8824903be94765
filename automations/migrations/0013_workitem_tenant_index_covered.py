"""The work items' index on `tenant_id` alone goes: the four composite indexes of the table start with the
tenant and serve every lookup by it, and each index costs every insert (the bulk import writes tens of
thousands of items a second). Only the index is dropped — Django's AlterField would also drop and re-add the
foreign key, which checks every row of a large table again under lock."""
import django.db.models.deletion
from django.db import migrations, models

INDEX = "automations_workitem_tenant_id_2f75a976"


class Migration(migrations.Migration):

    dependencies = [
        ("automations", "0012_changerequest_briefing_reconfirm"),
        ("portal", "0004_authenticator_encrypted"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="workitem",
                    name="tenant",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="+", to="portal.tenant", verbose_name="tenant"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "automations_workitem" ("tenant_id")',
                ),
            ],
        ),
    ]
