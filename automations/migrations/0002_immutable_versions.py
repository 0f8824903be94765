"""On PostgreSQL the database itself refuses edits of submitted versions and of releases, so that not
even a write around the services (admin, shell, SQL by the application role) can change them."""
from django.db import migrations

VERSION_TABLES = ("automations_prompttemplateversion", "automations_thresholdsetversion",
                  "automations_guardrailsetversion", "automations_engineconfigversion")

FUNCTIONS = """
CREATE OR REPLACE FUNCTION leitplanke_frozen_version() RETURNS trigger AS $$
BEGIN
    IF OLD.submitted_at IS NOT NULL THEN
        RAISE EXCEPTION 'submitted versions are immutable (%, id %)', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION leitplanke_immutable_row() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:  # no parameters: plpgsql's % stays as written
        cursor.execute(FUNCTIONS)
    for table in VERSION_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION leitplanke_frozen_version()")
    schema_editor.execute(
        "CREATE TRIGGER automations_release_immutable BEFORE UPDATE OR DELETE ON automations_release "
        "FOR EACH ROW EXECUTE FUNCTION leitplanke_immutable_row()")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in VERSION_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}")
    schema_editor.execute("DROP TRIGGER IF EXISTS automations_release_immutable ON automations_release")


class Migration(migrations.Migration):
    dependencies = [("automations", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
