"""verify_audit finds what a database superuser did to the audit rows, and names the first broken event."""
from datetime import timedelta

import pytest
from django.db import connection

from audit.actors import SYSTEM
from audit.chain import compute_hash
from audit.models import AuditEvent
from audit.services.events import audit_event_record
from audit.verification import Checkpoint, audit_verify
from tests.audit.conftest import COLUMNS, broken, run_verify, tamper

pytestmark = pytest.mark.django_db

CHAIN = "chain = %s"


def _shift_up(chain: str, from_sequence: int) -> list:
    """Make room at from_sequence (two steps, so the unique constraint holds after each)."""
    return [
        (f"UPDATE audit_auditevent SET sequence = -(sequence + 1) WHERE {CHAIN} AND sequence >= %s",
         [chain, from_sequence]),
        (f"UPDATE audit_auditevent SET sequence = -sequence WHERE {CHAIN} AND sequence < 0", [chain]),
    ]


def _copy(chain: str, sequence: int, to_sequence: int) -> tuple:
    return (
        (f"INSERT INTO audit_auditevent ({COLUMNS}) SELECT {COLUMNS.replace('sequence', '%s')} "
        f"FROM audit_auditevent WHERE {CHAIN} AND sequence = %s"),
        [to_sequence, chain, sequence],
    )


def _swap(chain: str, a: int, b: int) -> list:
    return [
        (f"UPDATE audit_auditevent SET sequence = -1 WHERE {CHAIN} AND sequence = %s", [chain, a]),
        (f"UPDATE audit_auditevent SET sequence = %s WHERE {CHAIN} AND sequence = %s", [a, chain, b]),
        (f"UPDATE audit_auditevent SET sequence = %s WHERE {CHAIN} AND sequence = -1", [b, chain]),
    ]


def test_untouched_chains_pass_with_one_line_each(muster_chain, make_tenant):
    other = make_tenant("zweite")
    audit_event_record(actor=SYSTEM, tenant=None, event_type="user.login_failed", details={"known_user": False})

    code, lines = run_verify()

    assert code == 0
    assert lines == ["muster: 8 events ok", "zweite: 1 events ok", "system: 1 events ok"]
    assert other.slug == "zweite"


def test_modified_details_value(muster_chain):
    tamper((f"UPDATE audit_auditevent SET details = '{{\"step\": 99}}' WHERE {CHAIN} AND sequence = 4",
            [muster_chain]))
    assert run_verify() == (1, [*broken("muster", (4, "modified"), read=8), "system: 0 events ok"])


def test_modified_event_type(muster_chain):
    tamper((f"UPDATE audit_auditevent SET event_type = 'tenant.created' WHERE {CHAIN} AND sequence = 6",
            [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (6, "modified"), read=8))


def test_modified_last_row(muster_chain):
    tamper((f"UPDATE audit_auditevent SET object_id = '999' WHERE {CHAIN} AND sequence = 8", [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (8, "modified"), read=8))


def test_modified_hash_or_link_columns(muster_chain):
    tamper((f"UPDATE audit_auditevent SET hash = %s WHERE {CHAIN} AND sequence = 3", ["ab" * 32, muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (3, "modified"), read=8))
    tamper((f"UPDATE audit_auditevent SET prev_hash = %s WHERE {CHAIN} AND sequence = 2", ["cd" * 32, muster_chain]))
    # Both changes are named, the first one first.
    assert run_verify("--tenant", "muster") == (1, broken("muster", (2, "modified"), (3, "modified"), read=8))


def test_timestamp_moved_back(muster_chain):
    earlier = AuditEvent.objects.get(chain=muster_chain, sequence=5).occurred_at - timedelta(days=1)
    tamper((f"UPDATE audit_auditevent SET occurred_at = %s WHERE {CHAIN} AND sequence = 5",
            [connection.ops.adapt_datetimefield_value(earlier), muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (5, "modified"), read=8))


def test_deleted_middle_row(muster_chain):
    tamper((f"DELETE FROM audit_auditevent WHERE {CHAIN} AND sequence = 5", [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (5, "missing"), read=7))


def test_deleted_first_row(muster_chain):
    tamper((f"DELETE FROM audit_auditevent WHERE {CHAIN} AND sequence = 1", [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (1, "missing"), read=7))


def test_deleted_row_with_the_gap_closed(muster_chain):
    tamper(
        (f"DELETE FROM audit_auditevent WHERE {CHAIN} AND sequence = 4", [muster_chain]),
        (f"UPDATE audit_auditevent SET sequence = sequence - 1 WHERE {CHAIN} AND sequence = 5", [muster_chain]),
        (f"UPDATE audit_auditevent SET sequence = sequence - 1 WHERE {CHAIN} AND sequence = 6", [muster_chain]),
        (f"UPDATE audit_auditevent SET sequence = sequence - 1 WHERE {CHAIN} AND sequence = 7", [muster_chain]),
        (f"UPDATE audit_auditevent SET sequence = sequence - 1 WHERE {CHAIN} AND sequence = 8", [muster_chain]),
    )
    assert run_verify("--tenant", "muster") == (1, broken("muster", (4, "missing"), read=7))


def test_copied_row_appended_at_the_end(muster_chain):
    tamper(_copy(muster_chain, 3, 9))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (9, "inserted"), read=9))


def test_copied_row_inserted_in_the_middle(muster_chain):
    tamper(*_shift_up(muster_chain, 4), _copy(muster_chain, 2, 4))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (4, "inserted"), read=9))


def test_forged_row_with_a_valid_hash_inserted_in_the_middle(muster_chain, tenant):
    """A forger who knows the hashing can make the inserted row itself look right; the row after it
    still links past it."""
    third = AuditEvent.objects.get(chain=muster_chain, sequence=3)
    values = {
        "chain": muster_chain, "sequence": 4, "occurred_at": third.occurred_at, "actor_kind": "system",
        "actor_user_id": None, "actor_token_id": None, "event_type": "tenant.switched",
        "object_type": "portal.tenant", "object_id": str(tenant.pk), "details": {"step": "forged"},
        "prev_hash": third.hash,
    }
    tamper(*_shift_up(muster_chain, 4), (
        (f"INSERT INTO audit_auditevent ({COLUMNS}) VALUES (%s, %s, 4, %s, 'system', NULL, NULL, "
        "'tenant.switched', 'portal.tenant', %s, '{\"step\": \"forged\"}', %s, %s)"),
        [tenant.pk, muster_chain, third.occurred_at, str(tenant.pk), third.hash, compute_hash(values)],
    ))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (4, "inserted"), read=9))


def test_forged_row_with_a_made_up_hash_inserted_in_the_middle(muster_chain, tenant):
    third = AuditEvent.objects.get(chain=muster_chain, sequence=3)
    tamper(*_shift_up(muster_chain, 4), (
        (f"INSERT INTO audit_auditevent ({COLUMNS}) VALUES (%s, %s, 4, %s, 'system', NULL, NULL, "
        "'tenant.switched', '', '', '{}', %s, %s)"),
        [tenant.pk, muster_chain, third.occurred_at, third.hash, "ab" * 32],
    ))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (4, "inserted"), read=9))


def test_two_neighbouring_rows_swapped(muster_chain):
    tamper(*_swap(muster_chain, 4, 5))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (4, "out of order"), read=8))


def test_two_distant_rows_swapped(muster_chain):
    tamper(*_swap(muster_chain, 2, 7))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (2, "out of order"), read=8))


def test_first_and_last_rows_swapped(muster_chain):
    tamper(*_swap(muster_chain, 1, 8))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (1, "out of order"), read=8))


def test_row_moved_to_the_end(muster_chain):
    tamper((f"UPDATE audit_auditevent SET sequence = 20 WHERE {CHAIN} AND sequence = 3", [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (3, "out of order"), read=8))


def test_one_broken_chain_fails_the_run_and_the_others_still_report(muster_chain, make_tenant):
    other = make_tenant("zweite")
    tamper(("DELETE FROM audit_auditevent WHERE chain = %s", [str(other.pk)]),
           (f"UPDATE audit_auditevent SET actor_kind = 'user' WHERE {CHAIN} AND sequence = 2", [muster_chain]))

    code, lines = run_verify()

    assert code == 1
    assert lines == [*broken("muster", (2, "modified"), read=8), *broken("zweite", (1, "missing"), read=0),
                     "system: 0 events ok"]


def test_tenant_option_verifies_only_that_tenant(muster_chain, make_tenant):
    other = make_tenant("zweite")
    tamper(("UPDATE audit_auditevent SET details = '{}' WHERE chain = %s AND sequence = 1", [str(other.pk)]))

    assert run_verify("--tenant", "muster") == (0, ["muster: 8 events ok"])
    assert run_verify("--tenant", "zweite") == (1, broken("zweite", (1, "modified"), read=1))


def test_unknown_tenant_is_a_clear_error(muster_chain):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No tenant with the slug 'nirgendwo'") as raised:
        call_command("verify_audit", "--tenant", "nirgendwo")
    assert raised.value.returncode == 2


def test_newest_events_deleted(muster_chain):
    tamper((f"DELETE FROM audit_auditevent WHERE {CHAIN} AND sequence > 6", [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (7, "missing"), read=6))


def test_whole_chain_deleted(muster_chain):
    tamper((f"DELETE FROM audit_auditevent WHERE {CHAIN}", [muster_chain]))
    assert run_verify("--tenant", "muster") == (1, broken("muster", (1, "missing"), read=0))


def test_events_cut_off_at_the_end_are_found_against_a_checkpoint(muster_chain):
    """Who deletes the newest events and resets the chain head goes unnoticed, except by a checkpoint."""
    checkpoint_row = AuditEvent.objects.get(chain=muster_chain, sequence=8)
    sixth = AuditEvent.objects.get(chain=muster_chain, sequence=6)
    tamper((f"DELETE FROM audit_auditevent WHERE {CHAIN} AND sequence > 6", [muster_chain]),
           ("UPDATE audit_auditchainhead SET sequence = 6, hash = %s WHERE chain = %s", [sixth.hash, muster_chain]))
    assert run_verify("--tenant", "muster") == (0, ["muster: 6 events ok"])
    checkpoints = {muster_chain: Checkpoint(sequence=8, hash=checkpoint_row.hash)}

    result = audit_verify(checkpoints=checkpoints)

    assert [chain.line for chain in result.chains] == [
        "muster: sequence 7: cut off after the last checkpoint", "system: 0 events ok",
    ]


def test_every_failing_event_is_named_after_the_first_then_a_summary(tenant):
    """Several independent changes far apart: each is named once, in order, none invented between them."""
    for step in range(2, 41):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                           details={"step": step})
    chain = str(tenant.pk)
    tamper((f"UPDATE audit_auditevent SET details = '{{\"step\": 99}}' WHERE {CHAIN} AND sequence = 5", [chain]),
           (f"DELETE FROM audit_auditevent WHERE {CHAIN} AND sequence IN (12, 13)", [chain]),
           *_shift_up(chain, 20), _copy(chain, 3, 20),
           (f"UPDATE audit_auditevent SET actor_kind = 'user' WHERE {CHAIN} AND sequence = 31", [chain]))

    code, lines = run_verify("--tenant", "muster")

    assert code == 1
    assert lines == broken("muster", (5, "modified"), (12, "missing"), (20, "inserted"), (31, "modified"), read=39)


def test_a_chain_broken_in_every_event_lists_a_hundred_and_counts_the_rest(tenant):
    for step in range(2, 131):
        audit_event_record(actor=SYSTEM, tenant=tenant, event_type="tenant.switched", obj=tenant,
                           details={"step": step})
    tamper(("UPDATE audit_auditevent SET details = '{\"rewritten\": 1}' WHERE chain = %s", [str(tenant.pk)]))

    code, lines = run_verify("--tenant", "muster")

    assert code == 1 and lines[0] == "muster: sequence 1: modified"
    assert lines[1:100] == [f"muster: sequence {n}: modified" for n in range(2, 101)]
    assert lines[100:] == ["muster: 130 failing events among 130 read, the first at sequence 1, 30 more not listed"]
