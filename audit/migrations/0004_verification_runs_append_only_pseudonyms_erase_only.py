"""Verification runs become append-only (written once, when done); pseudonyms erase-only: the runtime role may
only destroy a pseudonym's key, ciphertext and digest, never change whom it points to (audit.append_only)."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from audit import append_only


def forwards(apps, schema_editor):
    append_only.install(schema_editor.connection, "audit_verificationrun")
    append_only.install_pseudonym_guard(schema_editor.connection)


def backwards(apps, schema_editor):
    append_only.uninstall(schema_editor.connection, "audit_verificationrun")
    append_only.uninstall_pseudonym_guard(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_access_events_requests_anchors'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='verificationrun',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='started by'),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
