"""Signed checkpoints: cutting off the newest events (k = 1..100) or rewriting a whole chain is found by
verify_audit, which holds each chain against its newest checkpoint with a valid signature."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from audit import signing
from audit.actors import SYSTEM
from audit.chain import compute_hash, event_values
from audit.models import AuditEvent, VerificationRun
from audit.services.checkpoints import checkpoint_dir, checkpoints_sign
from audit.services.events import access_event_record, audit_event_record
from audit.tasks import sign_checkpoints_task
from tests.audit.conftest import broken, run_verify, tamper

pytestmark = pytest.mark.django_db
LENGTH = 120


class Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def checkpoint_folder(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


@pytest.fixture
def long_chain(tenant):
    """The tenant's chain with LENGTH events."""
    for step in range(2, LENGTH + 1):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                           details={"step": step})
    return str(tenant.pk)


def _cut(chain: str, k: int) -> None:
    """Delete the newest k events and set the head back, as someone covering their tracks would."""
    last = AuditEvent.objects.get(chain=chain, sequence=LENGTH - k)
    tamper(("DELETE FROM audit_auditevent WHERE chain = %s AND sequence > %s", [chain, LENGTH - k]),
           ("UPDATE audit_auditchainhead SET sequence = %s, hash = %s WHERE chain = %s", [last.sequence, last.hash,
                                                                                          chain]))


def test_cutting_off_the_newest_k_events_is_found_for_every_k_up_to_100(long_chain):
    written = checkpoints_sign()
    assert [path.name for path in written] == [f"{LENGTH:012d}-checkpoint.json"]
    assert run_verify("--tenant", "muster") == (0, [f"muster: {LENGTH} events ok"])

    for k in range(1, 101):
        with pytest.raises(Rollback), transaction.atomic():
            _cut(long_chain, k)
            assert run_verify("--tenant", "muster") == (
                1, broken("muster", (LENGTH - k + 1, "cut off after the last checkpoint"), read=LENGTH - k)), k
            raise Rollback


def test_without_a_checkpoint_the_same_cut_goes_unnoticed(long_chain):
    _cut(long_chain, 5)
    assert run_verify("--tenant", "muster") == (0, [f"muster: {LENGTH - 5} events ok"])


def _rewrite(chain: str, first: int = 1) -> None:
    """Rewrite every event from `first` on (other details) with hashes and links computed afresh: a
    consistent chain."""
    previous = "0" * 64 if first == 1 else AuditEvent.objects.get(chain=chain, sequence=first - 1).hash
    statements = []
    for event in AuditEvent.objects.filter(chain=chain, sequence__gte=first).order_by("sequence"):
        values = event_values(event) | {"details": {"rewritten": True}, "prev_hash": previous}
        digest = compute_hash(values)
        statements.append(("UPDATE audit_auditevent SET details = %s, prev_hash = %s, hash = %s WHERE id = %s",
                           [json.dumps(values["details"]), previous, digest, event.pk]))
        previous = digest
    statements.append(("UPDATE audit_auditchainhead SET hash = %s WHERE chain = %s", [previous, chain]))
    tamper(*statements)


def test_a_chain_rewritten_as_a_whole_is_found(long_chain):
    checkpoints_sign()
    _rewrite(long_chain)

    # Reported at the first changed event, which the checkpoint's signed hashes name, not at the checkpoint.
    assert run_verify("--tenant", "muster") == (1, broken("muster", (1, "modified"), read=LENGTH))


def test_a_rewritten_tail_is_named_at_its_first_changed_event_across_checkpoints(tenant, checkpoint_folder):
    for step in range(2, 61):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                           details={"step": step})
    checkpoints_sign()
    for step in range(61, 121):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                           details={"step": step})
    checkpoints_sign()
    assert sorted(p.name for p in (checkpoint_folder / str(tenant.pk)).iterdir()) == [
        "000000000060-checkpoint.json", "000000000120-checkpoint.json"]

    _rewrite(str(tenant.pk), first=90)
    assert run_verify("--tenant", "muster") == (1, broken("muster", (90, "modified"), read=LENGTH))

    _rewrite(str(tenant.pk), first=17)  # before the older checkpoint too: found through it
    assert run_verify("--tenant", "muster") == (1, broken("muster", (17, "modified"), read=LENGTH))


def test_a_checkpoint_without_signed_hashes_names_the_oldest_checkpoint_that_differs(long_chain, checkpoint_folder):
    (path,) = checkpoints_sign()
    statement = json.loads(path.read_text())
    assert len(statement["probes"]["hashes"]) == LENGTH * 16
    del statement["probes"]  # as written before checkpoints carried them
    path.write_text(json.dumps(signing.sign_statement({k: v for k, v in statement.items()
                                                       if k not in ("signature", "public_key")})))
    _rewrite(long_chain, first=50)

    assert run_verify("--tenant", "muster") == (1, broken("muster", (LENGTH, "modified"), read=LENGTH))


def test_a_rewritten_chain_verifies_without_checkpoints(long_chain, checkpoint_folder):
    checkpoints_sign()
    _rewrite(long_chain)
    for path in checkpoint_folder.rglob("*.json"):
        path.unlink()
    assert run_verify("--tenant", "muster") == (0, [f"muster: {LENGTH} events ok"])


def test_a_checkpoint_with_a_bad_signature_or_an_untrusted_key_is_ignored(long_chain, checkpoint_folder, settings):
    (path,) = checkpoints_sign()
    forged = json.loads(path.read_text()) | {"sequence": LENGTH + 50}
    forged_path = path.with_name(f"{LENGTH + 50:012d}-checkpoint.json")
    forged_path.write_text(json.dumps(forged))
    stranger = Ed25519PrivateKey.generate()
    settings.AUDIT_SIGNING_KEY = signing.base64.b64encode(stranger.private_bytes_raw()).decode()
    foreign = signing.sign_statement(json.loads(path.read_text()) | {"sequence": LENGTH + 60})
    path.with_name(f"{LENGTH + 60:012d}-checkpoint.json").write_text(json.dumps(foreign))
    del settings.AUDIT_SIGNING_KEY  # back to the tenant's own key

    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("verify_audit", "--tenant", "muster", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [f"muster: {LENGTH} events ok"]
    assert "signature or format invalid; ignored" in err.getvalue()
    assert err.getvalue().count("ignored") == 2
    assert VerificationRun.objects.latest("started_at").ok is False  # the DSB sees the forged files


def test_access_chains_are_signed_and_verified_beside_the_audit_chains(muster_chain, tenant, member):
    clerk = member("clerk")
    for _ in range(5):
        access_event_record(actor=clerk, tenant=tenant, purpose="review", obj=tenant)
    # (the clerk's membership is the ninth audit event)
    assert run_verify() == (0, ["muster: 9 events ok", "muster/access: 5 events ok", "system: 0 events ok"])

    assert sign_checkpoints_task() == 2
    assert sign_checkpoints_task() == 0  # nothing new since
    access_chain = f"{tenant.pk}/access"
    tamper(("DELETE FROM audit_accessevent WHERE chain = %s AND sequence > 3", [access_chain]),
           ("DELETE FROM audit_accesschainhead WHERE chain = %s", [access_chain]))

    assert run_verify() == (1, ["muster: 9 events ok",
                                *broken("muster/access", (4, "cut off after the last checkpoint"), read=3),
                                "system: 0 events ok"])


def test_a_chain_broken_since_its_last_checkpoint_is_not_signed_again(long_chain, tenant, checkpoint_folder):
    checkpoints_sign()
    for step in ("a", "b"):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", details={"step": step})
        audit_event_record(actor=SYSTEM, tenant=None, event_type="user.login_failed", details={"known_user": False})
    tamper(("UPDATE audit_auditevent SET details = '{}' WHERE chain = %s AND sequence = %s",
            [long_chain, LENGTH + 1]))

    written = checkpoints_sign()

    assert [path.parent.name for path in written] == ["system"]
    assert sorted(path.name for path in (checkpoint_dir() / long_chain).iterdir()) == [
        f"{LENGTH:012d}-checkpoint.json"]
