"""Audit rows become append-only in the database (see audit.append_only)."""
from django.db import migrations

from audit import append_only

TABLES = ["audit_auditevent"]


def forwards(apps, schema_editor):
    for table in TABLES:
        append_only.install(schema_editor.connection, table)


def backwards(apps, schema_editor):
    for table in TABLES:
        append_only.uninstall(schema_editor.connection, table)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
