"""The event tables keep the indexes a query uses, no more: every index is written on each append and again when
the sequencer links the event (the link changes indexed columns, so PostgreSQL writes a new entry into every
index). Dropped:

- `*_chain_hash` (chain, hash): no query looks an event up by its hash; verification walks a chain by sequence.
- `auditevent_tenant_time` (tenant, occurred_at): the DSB search by time filters the chain as well and runs on
  `*_chain_time` (chain, occurred_at, sequence); a tenant's audit chain is named after the tenant.
- the tenant foreign key's own index (tenant_id): every query by tenant starts with one of the (tenant, ...)
  indexes, and so does the foreign key's check when a tenant row is deleted.

The foreign key itself stays as it is: only its index is dropped here (Django's AlterField would drop and add the
constraint again on PostgreSQL, re-checking every row, and rebuild the table on SQLite, which would take the
append-only triggers with it)."""
import django.db.models.deletion
from django.db import migrations, models

EVENT_MODELS = ("auditevent", "accessevent")


def _tenant_indexes(schema_editor, table: str) -> list[str]:
    """Names of the plain one-column indexes on tenant_id (the foreign key's own index)."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [name for name, spec in constraints.items()
            if spec["index"] and not spec["unique"] and not spec["primary_key"] and not spec["foreign_key"]
            and spec["columns"] == ["tenant_id"]]


def drop_tenant_indexes(apps, schema_editor):
    for name in EVENT_MODELS:
        table = apps.get_model("audit", name)._meta.db_table
        for index in _tenant_indexes(schema_editor, table):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(index)}")


def create_tenant_indexes(apps, schema_editor):
    for name in EVENT_MODELS:
        model = apps.get_model("audit", name)
        if not _tenant_indexes(schema_editor, model._meta.db_table):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field("tenant")]))


def _tenant_field():
    return models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                             related_name='+', to='portal.tenant')


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0008_request_guard'),
        ('portal', '0004_authenticator_encrypted'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='accessevent',
            name='accessevent_chain_hash',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='auditevent_chain_hash',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='auditevent_tenant_time',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name='accessevent', name='tenant', field=_tenant_field()),
                migrations.AlterField(model_name='auditevent', name='tenant', field=_tenant_field()),
            ],
            database_operations=[migrations.RunPython(drop_tenant_indexes, create_tenant_indexes, elidable=False)],
        ),
    ]
