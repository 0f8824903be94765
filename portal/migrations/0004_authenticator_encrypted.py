"""Authenticators (TOTP) with their secret encrypted by the field keys: django-otp's own TOTP rows, whose secret
was stored in clear, become TotpAuthenticator rows (the same secret, encrypted; their counters, throttling and
timestamps kept) and are removed from django-otp's table. Signed-in sessions verified with an old device sign
in with their second factor again; the app needs no new set-up."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import portal.models


def encrypt_plain_devices(apps, schema_editor):
    from portal import field_keys

    Plain = apps.get_model("otp_totp", "TOTPDevice")
    Authenticator = apps.get_model("portal", "TotpAuthenticator")
    for device in Plain.objects.using(schema_editor.connection.alias).order_by("pk").iterator():
        Authenticator.objects.using(schema_editor.connection.alias).create(
            user_id=device.user_id, name=device.name, confirmed=device.confirmed,
            throttling_failure_timestamp=device.throttling_failure_timestamp,
            throttling_failure_count=device.throttling_failure_count, created_at=device.created_at,
            last_used_at=device.last_used_at, key_ciphertext=field_keys.encrypt(device.key), step=device.step,
            t0=device.t0, digits=device.digits, tolerance=device.tolerance, drift=device.drift, last_t=device.last_t)
        device.delete()


def decrypt_back(apps, schema_editor):
    from portal import field_keys

    Plain = apps.get_model("otp_totp", "TOTPDevice")
    Authenticator = apps.get_model("portal", "TotpAuthenticator")
    for device in Authenticator.objects.using(schema_editor.connection.alias).order_by("pk").iterator():
        Plain.objects.using(schema_editor.connection.alias).create(
            user_id=device.user_id, name=device.name, confirmed=device.confirmed,
            throttling_failure_timestamp=device.throttling_failure_timestamp,
            throttling_failure_count=device.throttling_failure_count, created_at=device.created_at,
            last_used_at=device.last_used_at, key=field_keys.decrypt(device.key_ciphertext), step=device.step,
            t0=device.t0, digits=device.digits, tolerance=device.tolerance, drift=device.drift, last_t=device.last_t)


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0003_membership_sign_in_permissions'),
        ('otp_totp', '0003_add_timestamps'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='TotpAuthenticator',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('key_ciphertext', models.TextField(default=portal.models.totp_key_new, editable=False)),
                ('step', models.PositiveSmallIntegerField(default=30)),
                ('t0', models.BigIntegerField(default=0)),
                ('digits', models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)),
                ('tolerance', models.PositiveSmallIntegerField(default=1)),
                ('drift', models.SmallIntegerField(default=0)),
                ('last_t', models.BigIntegerField(default=-1)),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'authenticator (TOTP)',
                'verbose_name_plural': 'authenticators (TOTP)',
                'abstract': False,
            },
        ),
        migrations.RunPython(encrypt_plain_devices, decrypt_back),
    ]
