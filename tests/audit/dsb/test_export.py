"""An export verifies offline with the documented script (standard library and `cryptography` only), and fails
it after a one-byte change anywhere."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from audit import signing
from audit.actors import SYSTEM
from audit.models import AuditEvent
from audit.services.checkpoints import checkpoints_sign
from audit.services.events import access_event_record, audit_event_record
from tests.access import login
from tests.audit.conftest import tamper

pytestmark = pytest.mark.django_db
SCRIPT = Path(__file__).resolve().parents[3] / "audit" / "offline_verify.py"


def check(path: Path, *extra: str) -> tuple[int, str]:
    """Run the offline script as a third party would: a separate Python process, no portal settings."""
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), str(path), *extra], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"})
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.fixture
def dsb(client, world):
    return login(client, world["team"]["data_protection_officer"], world["tenant"])


def _download(client, tmp_path, name="export", **params) -> Path:
    response = client.get(reverse("audit:event-export"), params)
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    path = tmp_path / f"{name}.{params.get('format', 'jsonl')}"
    path.write_bytes(b"".join(response.streaming_content))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_filtered_export_verifies_offline_and_a_single_changed_byte_fails_it(dsb, world, tmp_path, fmt):
    checkpoints_sign()
    for _ in range(3):  # newer than the checkpoint
        audit_event_record(actor=SYSTEM, tenant=world["tenant"], event_type="tenant.switched")
    path = _download(dsb, tmp_path, format=fmt, event_type="master_record.changed")
    data = path.read_bytes()
    key = signing.public_key_b64()

    code, output = check(path, "--public-key", key)

    assert code == 0, output
    total = AuditEvent.objects.filter(chain=str(world["tenant"].pk)).count() - 1  # the export's own event follows
    assert f"4 events exported, {total - 4} left out, chain 1..{total} complete" in output
    assert "signed checkpoint at" in output and "matches" in output
    text = data.decode()
    for offset in (text.index("master_record.changed") + 3, text.index("prev_hash") + 40, len(data) // 2,
                   len(data) - 20, 5):
        changed = bytearray(data)
        changed[offset] = ord("0") if changed[offset] != ord("0") else ord("1")
        tampered = tmp_path / f"tampered.{fmt}"
        tampered.write_bytes(bytes(changed))
        code, output = check(tampered, "--public-key", key)
        assert code == 1 and output.startswith("FAILED:"), (offset, output)


def test_an_export_signed_with_another_key_fails(dsb, world, tmp_path):
    path = _download(dsb, tmp_path, format="jsonl")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = signing.public_key_b64(Ed25519PrivateKey.generate())
    code, output = check(path, "--public-key", stranger)
    assert code == 1 and "does not verify with the given public key" in output


def test_a_chain_rewritten_in_the_database_is_caught_by_the_checkpoint_in_the_export(dsb, world, tmp_path):
    """Whoever rewrites the database and recomputes every hash still cannot sign the checkpoint anew."""
    from tests.audit.dsb.test_checkpoints import _rewrite

    checkpoints_sign()
    _rewrite(str(world["tenant"].pk))
    path = _download(dsb, tmp_path, format="jsonl")
    code, output = check(path, "--public-key", signing.public_key_b64())
    assert code == 1 and "differs from the signed checkpoint (rewritten)" in output


def test_an_export_of_events_cut_off_before_the_checkpoint_fails(dsb, world, tmp_path):
    chain = str(world["tenant"].pk)
    checkpoints_sign()
    last = AuditEvent.objects.filter(chain=chain).order_by("-sequence").first().sequence
    tamper(("DELETE FROM audit_auditevent WHERE chain = %s AND sequence > %s", [chain, last - 2]))
    path = _download(dsb, tmp_path, format="csv")
    code, output = check(path, "--public-key", signing.public_key_b64())
    assert code == 1 and "before its signed checkpoint" in output


def test_the_access_log_exports_for_the_dsb_and_the_export_is_audited(dsb, world, tmp_path):
    access_event_record(actor=world["team"]["clerk"], tenant=world["tenant"], purpose="review",
                        obj=world["items"]["otto_plain"])
    path = _download(dsb, tmp_path, format="jsonl", stream="access")
    code, output = check(path, "--public-key", signing.public_key_b64())
    assert code == 0 and "(access)" in output, output
    exported = AuditEvent.objects.filter(event_type="audit_export.created").order_by("sequence")
    assert [e.details["stream"] for e in exported] == ["access"]


def test_the_script_needs_only_the_standard_library_and_cryptography():
    tree = ast.parse(SCRIPT.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}
