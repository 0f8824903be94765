"""Data subject requests keep whom and what they concern, change no more once closed, and are never deleted:
a guard trigger (audit.append_only.install_request_guard); the runtime role loses DELETE and TRUNCATE on them
(setup_db_roles)."""
from django.db import migrations

from audit import append_only


def forwards(apps, schema_editor):
    append_only.install_request_guard(schema_editor.connection)


def backwards(apps, schema_editor):
    append_only.uninstall_request_guard(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0007_request_handling'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
