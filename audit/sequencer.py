"""The audit sequencer (PostgreSQL): writers append events, the sequencer links them into their chain.

A writer inserts its event row in its own transaction with `sequence`, `prev_hash` and `hash` still empty
(a *pending* event, hash version 2) and touches no chain head: concurrent writers never wait for each other.
The sequencer takes a chain's head row lock once per batch, gives the chain's pending events the next
sequence numbers in the order it finds them, computes their hashes in the database (audit_event_hash_v2,
the form audit.chain describes), indexes the pseudonyms their details name, moves the head, and commits.

Who runs it: the writing process right after its commit (transaction.on_commit, one call per chain the
transaction wrote to; that call sequences whatever is pending, so under load one commit links many events),
and, for events whose writer died between its commit and that call, the maintenance sweep
(`manage.py audit_sequencer`, or the beat task `audit.sequence_pending`).

Why it cannot fork or lose the chain: the head row lock serialises sequencers per chain, and each batch is
one transaction — either every event of it is linked and the head moved, or none is (a crash leaves them
pending, and the next run links them). An event that committed is in the table before it is linked, so
nothing that committed is lost; an event that rolled back never existed.

Why the runtime role gains no way around append-only (audit.append_only): the filling runs in
``audit_sequence_<table>()``, a SECURITY DEFINER function owned by the owner role, with a fixed search path.
The row guard lets an UPDATE through only for the owner role, only while that function runs (its own
setting), only on a row whose hash is still empty, and only when nothing but `sequence`, `prev_hash` and
`hash` changes. The runtime role may call the function, which takes no values from it but the chain's name;
it still has no UPDATE, DELETE or TRUNCATE privilege, and a linked row stays immutable for everyone.

The embedded SQLite default has no roles and one writer at a time: there the chain is built inside the
writing transaction, hash version 1, as before (audit.services.events).
"""
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.append_only import SEQUENCING_SETTING
from audit.chain import HASHED_FIELDS, V2_PREFIX
from audit.choices import Stream as StreamKey

BATCH = 5000
# (event table, head table, stream key) for each stream (audit.streams)
TABLES = (("audit_auditevent", "audit_auditchainhead", StreamKey.AUDIT),
          ("audit_accessevent", "audit_accesschainhead", StreamKey.ACCESS))
HASH_FUNCTION = "audit_event_hash_v2"

_PARAMETERS = ("p_chain text, p_sequence bigint, p_occurred_at timestamptz, p_actor_kind text, "
               "p_actor_user_id bigint, p_actor_token_id bigint, p_event_type text, p_object_type text, "
               "p_object_id text, p_details jsonb, p_prev_hash text")
_FIELD_TEXTS = {
    "chain": "p_chain",
    "sequence": "p_sequence::text",
    "occurred_at": "(EXTRACT(epoch FROM p_occurred_at) * 1000000)::bigint::text",
    "actor_kind": "p_actor_kind",
    "actor_user_id": "COALESCE(p_actor_user_id::text, '')",
    "actor_token_id": "COALESCE(p_actor_token_id::text, '')",
    "event_type": "p_event_type",
    "object_type": "p_object_type",
    "object_id": "p_object_id",
    "details": "p_details::text",
    "prev_hash": "p_prev_hash",
}


def _field(expression: str) -> str:
    return f"E'\\n' || pg_catalog.octet_length({expression})::text || ':' || {expression}"


# One SQL expression, inlined by the planner: the verifier computes it over millions of rows in C.
HASH_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {HASH_FUNCTION}({_PARAMETERS}) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $hash$
SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
    '{V2_PREFIX.decode()}' || {' || '.join(_field(_FIELD_TEXTS[name]) for name in HASHED_FIELDS)}, 'UTF8')), 'hex')
$hash$
"""

HASH_ARGUMENTS = ", ".join(HASHED_FIELDS)


def sequence_function(table: str) -> str:
    return f"audit_sequence_{table.removeprefix('audit_')}"


def _sequence_function_sql(table: str, head: str, stream: str, schema: str) -> str:
    quoted_schema = '"' + schema.replace('"', '""') + '"'
    return f"""
CREATE OR REPLACE FUNCTION {sequence_function(table)}(p_chain text, p_limit integer DEFAULT {BATCH})
RETURNS TABLE (event_id bigint, event_sequence bigint, event_prev_hash text, event_hash text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = {quoted_schema}, pg_temp
SET {SEQUENCING_SETTING} = 'on'
AS $sequence$
DECLARE
    v_sequence bigint;
    v_hash text;
    v_next text;
    v_row record;
    v_ids bigint[] := '{{}}';
    v_sequences bigint[] := '{{}}';
    v_prev_hashes text[] := '{{}}';
    v_hashes text[] := '{{}}';
BEGIN
    SELECT h.sequence, h.hash INTO v_sequence, v_hash FROM {head} h WHERE h.chain = p_chain FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO {head} (chain, sequence, hash) VALUES (p_chain, 0, pg_catalog.repeat('0', 64))
            ON CONFLICT (chain) DO NOTHING;
        SELECT h.sequence, h.hash INTO v_sequence, v_hash FROM {head} h WHERE h.chain = p_chain FOR UPDATE;
    END IF;
    -- Each hash needs the one before it, so they are computed row by row; the rows are written once per batch.
    FOR v_row IN
        SELECT e.id, e.occurred_at, e.actor_kind, e.actor_user_id, e.actor_token_id, e.event_type,
               e.object_type, e.object_id, e.details
        FROM {table} e WHERE e.chain = p_chain AND e.sequence IS NULL ORDER BY e.id LIMIT p_limit
    LOOP
        v_sequence := v_sequence + 1;
        v_next := {HASH_FUNCTION}(p_chain, v_sequence, v_row.occurred_at, v_row.actor_kind, v_row.actor_user_id,
                                  v_row.actor_token_id, v_row.event_type, v_row.object_type, v_row.object_id,
                                  v_row.details, v_hash);
        v_ids := v_ids || v_row.id;
        v_sequences := v_sequences || v_sequence;
        v_prev_hashes := v_prev_hashes || v_hash;
        v_hashes := v_hashes || v_next;
        event_id := v_row.id;
        event_sequence := v_sequence;
        event_prev_hash := v_hash;
        event_hash := v_next;
        v_hash := v_next;
        RETURN NEXT;
    END LOOP;
    IF pg_catalog.cardinality(v_ids) = 0 THEN
        RETURN;
    END IF;
    -- One UPDATE and one INSERT for the whole batch, not one statement per event.
    UPDATE {table} e SET sequence = l.sequence, prev_hash = l.prev_hash, hash = l.hash
    FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_sequences), pg_catalog.unnest(v_prev_hashes),
                   pg_catalog.unnest(v_hashes)) AS l(id, sequence, prev_hash, hash)
    WHERE e.id = l.id;
    INSERT INTO audit_subjectreference (stream, tenant_id, chain, sequence, pseudonym)
    SELECT DISTINCT '{stream}', e.tenant_id, p_chain, l.sequence, found.m[1]
    FROM ROWS FROM (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_sequences)) AS l(id, sequence)
    JOIN {table} e ON e.id = l.id
    CROSS JOIN LATERAL pg_catalog.regexp_matches(e.details::text, '\\y(ps_[0-9a-f]{{20}})\\y', 'g') AS found(m)
    WHERE e.tenant_id IS NOT NULL
    ORDER BY l.sequence, found.m[1];
    UPDATE {head} SET sequence = v_sequence, hash = v_hash WHERE chain = p_chain;
END;
$sequence$
"""


def install(connection) -> None:
    """Create (or replace) the hash function and the sequencing functions; PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(HASH_FUNCTION_SQL)
        for table, head, stream in TABLES:
            cursor.execute(_sequence_function_sql(table, head, str(stream), schema))


def uninstall(connection) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table, _head, _stream in TABLES:
            cursor.execute(f"DROP FUNCTION IF EXISTS {sequence_function(table)}(text, integer)")
        cursor.execute(f"DROP FUNCTION IF EXISTS {HASH_FUNCTION}({_PARAMETERS})")


def sequence_chain(table: str, chain: str, *, using: str = DEFAULT_DB_ALIAS, limit: int = BATCH) -> list[tuple]:
    """Link the chain's pending events (at most `limit`) in the current transaction, or in one of its own
    outside a transaction. Returns (event id, sequence, prev_hash, hash) of each event it linked."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT * FROM {sequence_function(table)}(%s, %s)", [chain, limit])
        return cursor.fetchall()


# The key of the transaction-level advisory lock every inline-linking transaction takes before its first chain
# head (pg_advisory_xact_lock; "LPAUDIT" in ASCII).
INLINE_LOCK_KEY = 0x4C50415544495400


def sequence_chain_inline(table: str, chain: str, *, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """Link the chain's pending events inside the writing transaction (AUDIT_SEQUENCER "inline").

    Such a transaction holds each chain head it linked until it commits, and it may write to several chains in
    any order (a tenant's chain, then the system chain; another transaction the other way round): two of them
    would wait for each other's heads. So every inline-linking transaction first takes one advisory lock, held
    to its end: inline writers run one at a time, and a transaction that links a single chain in a transaction
    of its own (the on-commit sequencer, the sweep) holds one head and waits for nothing else, so no wait can
    close a circle."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INLINE_LOCK_KEY])
    return sequence_chain(table, chain, using=using)


def pending_chains(table: str, *, using: str = DEFAULT_DB_ALIAS) -> list[tuple[str, int]]:
    """(chain, number of pending events) of every chain with events not yet linked."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT chain, count(*) FROM {table} WHERE sequence IS NULL GROUP BY chain ORDER BY chain")
        return cursor.fetchall()


def sequence_all_pending(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Link every pending event of every chain, batch by batch, each batch in a transaction of its own.
    Returns how many it linked; 0 on a database without a sequencer (SQLite links while writing)."""
    if connections[using].vendor != "postgresql":
        return 0
    linked = 0
    for table, _head, _stream in TABLES:
        for chain, _count in pending_chains(table, using=using):
            while True:
                with transaction.atomic(using=using):
                    batch = len(sequence_chain(table, chain, using=using))
                linked += batch
                if batch < BATCH:
                    break
    return linked
