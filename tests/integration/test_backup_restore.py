"""deploy/backup.sh round-trips (docs/deployment.md, "Backups and restore"): a portal with items, files and
signed audit checkpoints on a PostgreSQL cluster of the test's own is backed up, destroyed (database dropped,
media and checkpoint folders deleted), restored — and `verify_audit` passes, items and files are as before.

The portal runs in subprocesses against the private cluster, as an operator's shell would run it."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.servers import PrivatePostgres

pytestmark = pytest.mark.integration

BASE_DIR = Path(settings.BASE_DIR)
SCRIPT = BASE_DIR / "deploy" / "backup.sh"
STRAY = ("BROKER_URL", "RESULT_BACKEND", "APP", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DATABASE_ADMIN_URL",
         "DATABASE_URL", "PORTAL_MEDIA_ROOT", "AUDIT_CHECKPOINT_DIR", "DEBUG")

SEED = """
import json
from django.core.files.uploadedfile import SimpleUploadedFile
from audit.services.checkpoints import checkpoints_sign
from automations.execution.services import intake
from portal.models import Tenant
from django.contrib.auth import get_user_model
tenant = Tenant.objects.get(slug="muster")
operator = get_user_model().objects.get(username="it_operator")
for n in range(4):
    content = (f"Lieferschein Nr. {n}: Größe, Maße, Stückzahl\\n" * (200 + n)).encode()
    intake.work_item_create(actor=operator, tenant=tenant, use_case_key="belege",
                            files=[SimpleUploadedFile(f"beleg-{n}.txt", content, "text/plain")])
for n in range(3):
    intake.work_item_create(actor=operator, tenant=tenant, use_case_key="belege",
                            payload={"text": f"Rechnung Nr. {n}"})
print(json.dumps({"signed": len(checkpoints_sign())}))
"""

STATE = """
import hashlib, json
from automations.models import WorkItem, WorkItemFile
from audit.models import AuditEvent
items = sorted((str(i.pk), i.use_case.key, i.status, json.dumps(i.payload, sort_keys=True))
               for i in WorkItem.objects.select_related("use_case"))
files = sorted((str(f.item_id), f.name, hashlib.sha256(f.file.read()).hexdigest()) for f in WorkItemFile.objects.all())
print(json.dumps({"items": items, "files": files, "events": AuditEvent.objects.count()}))
"""


@pytest.fixture
def cluster():
    server = PrivatePostgres().start()
    try:
        yield server
    finally:
        server.remove()


def test_backup_destroy_restore_keeps_items_files_and_a_verifiable_audit_trail(cluster, tmp_path):
    var = tmp_path / "var"
    cluster.psql("CREATE DATABASE leitplanke")
    env = {k: v for k, v in os.environ.items() if k not in STRAY} | {
        "PORTAL_ENV": "development", "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_VAR_DIR": str(var),
        "DATABASE_URL": cluster.url("leitplanke"), "LEITPLANKE_PYTHON": sys.executable,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    def manage(*args, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], cwd=BASE_DIR, env=env,
                              input=stdin, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def script(*args) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(SCRIPT), *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                              timeout=600)

    manage("migrate", "-v", "0")
    subprocess.run([sys.executable, "-m", "tests.integration.embedded_site", "setup", "0"], cwd=BASE_DIR, env=env,
                   check=True, capture_output=True, timeout=600)
    seeded = json.loads(manage("shell", "-c", SEED).strip().splitlines()[-1])
    assert seeded["signed"] >= 1
    before = json.loads(manage("shell", "-c", STATE).strip().splitlines()[-1])
    assert len(before["items"]) == 7 and len(before["files"]) == 4
    assert "events ok" in manage("verify_audit")

    backup = tmp_path / "backup"
    done = script("backup", str(backup))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in backup.iterdir()} == {"database.dump", "media.tar.gz", "checkpoints.tar.gz", "MANIFEST"}

    # Disaster: the database is gone, and so are the files and the checkpoints.
    cluster.psql("DROP DATABASE leitplanke WITH (FORCE)")
    cluster.psql("CREATE DATABASE leitplanke")
    shutil.rmtree(var / "media")
    shutil.rmtree(var / "checkpoints")

    # A damaged backup is refused before anything is touched.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    with open(damaged / "media.tar.gz", "ab") as archive:
        archive.write(b"x")
    refused = script("restore", str(damaged))
    assert refused.returncode != 0 and "checksums" in refused.stderr
    assert cluster.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "leitplanke").strip() == "0"

    done = script("restore", str(backup))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "events ok" in done.stdout
    after = json.loads(manage("shell", "-c", STATE).strip().splitlines()[-1])
    assert after == before
    # The restored trail is still a chain that verification reads: an event removed from it is found.
    cluster.psql("ALTER TABLE audit_auditevent DISABLE TRIGGER USER", "leitplanke")
    cluster.psql("DELETE FROM audit_auditevent WHERE sequence = 2", "leitplanke")
    broken = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "verify_audit"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    assert broken.returncode == 1, broken.stdout
