"""Verifying the audit chains (``manage.py verify_audit``).

A chain is read once, in sequence order, as a stream (bounded memory on millions of rows); each row must
carry the next sequence number, hash to its stored hash, and link to the previous row's hash. At the
first row that does not, a few indexed look-ups classify what happened to it. AuditChainHead, which
the runtime role may write, serves as a hint only: it finds the newest events deleted, unless whoever
deleted them reset the head as well (signed checkpoints will find that).
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections, router, transaction

from audit.chain import HASHED_FIELDS, compute_hash
from audit.models import GENESIS_HASH, SYSTEM_CHAIN, AuditAnchor, AuditChainHead, AuditEvent
from audit.streams import ACCESS, AUDIT, Stream, stream_of_chain
from portal.models import Tenant

CHUNK_SIZE = 5000
# How many deleted rows a "closed gap" (rows renumbered down after a deletion) may span to be recognised.
_CLOSED_GAP_SEARCH = 10_000
_COLUMNS = ("id", "hash", *HASHED_FIELDS)


class Reason:
    MODIFIED = "modified"
    MISSING = "missing"
    INSERTED = "inserted"
    OUT_OF_ORDER = "out of order"
    CUT_OFF = "cut off after the last checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A chain's (signed) state at some moment: the chain must still contain this link. Supplied by the
    checkpoint store once signed checkpoints exist; without one, cutting off the newest events goes
    unnoticed."""

    sequence: int
    hash: str


@dataclass(frozen=True)
class Anchor:
    """Where a purged chain starts (audit.services.purge): the last removed event's sequence and hash. Only anchors
    with a valid signature are passed here (audit.services.checkpoints)."""

    sequence: int
    hash: str


@dataclass(frozen=True)
class Failure:
    sequence: int
    reason: str


@dataclass(frozen=True)
class ChainResult:
    chain: str  # the chain key: a tenant's id, "<id>/access", or "system"
    label: str  # what people call it: the tenant's slug, "<slug>/access", or "system"
    events: int
    failure: Failure | None = None
    checkpoint: int | None = None  # the sequence of the signed checkpoint it was held against
    anchor: int | None = None  # the sequence of the anchor it started after

    @property
    def stream(self) -> str:
        return stream_of_chain(self.chain).key

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def line(self) -> str:
        if self.failure is None:
            return f"{self.label}: {self.events} events ok"
        return f"{self.label}: sequence {self.failure.sequence}: {self.failure.reason}"


@dataclass(frozen=True)
class VerificationResult:
    chains: list[ChainResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(chain.ok for chain in self.chains)


@dataclass
class _Row:
    id: int
    hash: str
    values: dict

    @property
    def sequence(self) -> int:
        return self.values["sequence"]

    @property
    def prev_hash(self) -> str:
        return self.values["prev_hash"]

    @property
    def occurred_at(self) -> datetime:
        return self.values["occurred_at"]

    def hash_at(self, sequence: int) -> str:
        return compute_hash(self.values | {"sequence": sequence})


def _row(values: tuple) -> _Row:
    return _Row(id=values[0], hash=values[1], values=dict(zip(HASHED_FIELDS, values[2:])))


def audit_chains(*, tenant=None) -> list[tuple[str, str]]:
    """(chain key, label) of every audit chain, or of one tenant's: tenants by slug, then the system chain."""
    if tenant is not None:
        return [(str(tenant.pk), tenant.slug)]
    tenants = {str(pk): slug for pk, slug in Tenant.objects.values_list("pk", "slug")}
    keys = set(tenants) | {SYSTEM_CHAIN}
    keys |= set(AuditChainHead.objects.values_list("chain", flat=True))
    keys |= set(AuditEvent.objects.order_by().values_list("chain", flat=True).distinct())
    keys.discard(SYSTEM_CHAIN)
    chains = sorted(((key, tenants.get(key, key)) for key in keys), key=lambda item: item[1])
    return [*chains, (SYSTEM_CHAIN, SYSTEM_CHAIN)]


def access_chain_for(chain: str, label: str, *, known: set[str]) -> tuple[str, str] | None:
    """The access chain beside an audit chain, when it exists: it has events, a head, or a checkpoint
    (so that deleting all of a chain's access events and its head is still found by the checkpoint)."""
    if chain == SYSTEM_CHAIN:
        return None
    key = f"{chain}{ACCESS.suffix}"
    return (key, ACCESS.label(label)) if key in known else None


def _known_access_chains(extra: set[str]) -> set[str]:
    keys = set(ACCESS.head_model.objects.values_list("chain", flat=True))
    keys |= set(ACCESS.event_model.objects.order_by().values_list("chain", flat=True).distinct())
    return keys | {key for key in extra if key.endswith(ACCESS.suffix)}


def audit_verify(*, tenant=None, checkpoints: dict[str, Checkpoint] | None = None,
                 anchors: dict[str, Anchor] | None = None) -> VerificationResult:
    """Every chain (or one tenant's): each audit chain, followed by its access chain when there is one.
    `checkpoints` and `anchors` map chain keys to what audit.services.checkpoints read and checked."""
    checkpoints = checkpoints or {}
    anchors = anchors or {}
    access = _known_access_chains(set(checkpoints) | set(anchors))
    results = []
    for chain, label in audit_chains(tenant=tenant):
        results.append(audit_chain_verify(chain=chain, label=label, checkpoint=checkpoints.get(chain),
                                          anchor=anchors.get(chain)))
        beside = access_chain_for(chain, label, known=access)
        if beside is not None:
            key, access_label = beside
            results.append(audit_chain_verify(chain=key, label=access_label, checkpoint=checkpoints.get(key),
                                              anchor=anchors.get(key), stream=ACCESS))
    return VerificationResult(chains=results)


def audit_chain_verify(*, chain: str, label: str | None = None, checkpoint: Checkpoint | None = None,
                       anchor: Anchor | None = None, stream: Stream = AUDIT) -> ChainResult:
    label = label or chain
    connection = connections[router.db_for_read(stream.event_model)]
    if connection.vendor == "postgresql":
        # In a transaction PostgreSQL streams through a plain server-side cursor; outside one, Django
        # would declare it WITH HOLD and the server would first copy the whole chain.
        with transaction.atomic(using=connection.alias):
            return _walk(stream, chain, label, checkpoint, _head(stream, chain), anchor)
    # SQLite streams from its cursor anyway; a transaction there (IMMEDIATE) would block every writer.
    return _walk(stream, chain, label, checkpoint, _head(stream, chain), anchor)


def _head(stream: Stream, chain: str) -> Checkpoint | None:
    """The chain head, read before the rows so that events appended meanwhile never look missing. Only a
    hint: whoever can delete rows can reset the head too; signed checkpoints are what can be trusted."""
    head = stream.head_model.objects.filter(chain=chain).values_list("sequence", "hash").first()
    return Checkpoint(*head) if head else None


def anchors_in_database() -> dict[str, AuditAnchor]:
    """The newest anchor row of each chain (its signature is checked by audit.services.checkpoints)."""
    newest: dict[str, AuditAnchor] = {}
    for anchor in AuditAnchor.objects.order_by("chain", "-sequence"):
        newest.setdefault(anchor.chain, anchor)
    return newest


def _walk(stream: Stream, chain: str, label: str, checkpoint: Checkpoint | None, head: Checkpoint | None,
          anchor: Anchor | None = None) -> ChainResult:
    events = stream.event_model.objects.filter(chain=chain)
    start = anchor.sequence if anchor is not None else 0
    rows = (
        events.filter(sequence__gt=start)
        .order_by("sequence")
        .values_list(*_COLUMNS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    count = 0
    expected = start + 1
    # hashes of the rows at expected - 2 and expected - 1 (after an anchor, the row before it is unknown)
    links = [GENESIS_HASH, GENESIS_HASH] if anchor is None else ["", anchor.hash]
    previous: _Row | None = None
    marks = {"checkpoint": checkpoint.sequence if checkpoint else None, "anchor": anchor.sequence if anchor else None}

    def result(failure: Failure | None = None) -> ChainResult:
        return ChainResult(chain, label, count, failure, **marks)

    if anchor is not None:
        # The anchored row itself, if it is still there (the purge was not carried out), must match.
        kept = events.filter(sequence=anchor.sequence).values_list("hash", flat=True).first()
        if kept is not None and kept != anchor.hash:
            return result(Failure(anchor.sequence, Reason.MODIFIED))
    for values in rows:
        row = _row(values)
        if row.sequence != expected:
            if row.sequence < expected:  # only possible without the unique constraint
                return result(Failure(row.sequence, Reason.INSERTED))
            return result(Failure(expected, _classify_gap(events, expected, links)))
        if row.prev_hash != links[1] or row.hash_at(row.sequence) != row.hash:
            return result(_classify(events, row, previous, links))
        for known in (checkpoint, head):
            if known is not None and row.sequence == known.sequence and row.hash != known.hash:
                return result(Failure(row.sequence, Reason.MODIFIED))
        links = [links[1], row.hash]
        previous = row
        count += 1
        expected += 1
    last = expected - 1
    if checkpoint is not None and last < checkpoint.sequence:
        return result(Failure(last + 1, Reason.CUT_OFF))
    if head is not None and last < head.sequence:
        return result(Failure(last + 1, Reason.MISSING))
    return result()


def _classify(events, row: _Row, previous: _Row | None, links: list[str]) -> Failure:
    """Why the row at its (expected) sequence n breaks the chain; called once, at the first break.
    `events` are the chain's rows (a queryset)."""
    n = row.sequence
    link_ok = row.prev_hash == links[1]

    # A second row with the same hash: a copy was put in.
    if events.filter(hash=row.hash).exclude(pk=row.id).exists():
        return Failure(n, Reason.INSERTED)
    # This row links past its predecessor: the predecessor was put in.
    if not link_ok and n >= 2 and links[0] and row.prev_hash == links[0]:
        return Failure(n - 1, Reason.INSERTED)
    following = events.filter(sequence=n + 1).values_list("prev_hash", flat=True).first()
    # Linked on both sides where it stands: it is in its place, its content was changed.
    if link_ok and following in (None, row.hash):
        return Failure(n, Reason.MODIFIED)
    if _moved(events, row, previous):
        return Failure(n, Reason.OUT_OF_ORDER)
    # The next row links to this row's predecessor: this row was put in.
    if following is not None and following == links[1]:
        return Failure(n, Reason.INSERTED)
    # The row it links to is gone, and this row is intact where it stands or was only moved up to close
    # the gap (otherwise its own prev_hash was what someone changed).
    if (
        row.prev_hash != GENESIS_HASH
        and not events.filter(hash=row.prev_hash).exists()
        and any(row.hash_at(sequence) == row.hash for sequence in range(n, n + _CLOSED_GAP_SEARCH))
    ):
        return Failure(n, Reason.MISSING)
    return Failure(n, Reason.MODIFIED)


def _classify_gap(events, n: int, links: list[str]) -> str:
    """No row carries sequence n: deleted, unless the row that belongs there stands elsewhere."""
    for values in events.filter(prev_hash=links[1]).values_list(*_COLUMNS):
        row = _row(values)
        if row.sequence != n and row.hash_at(n) == row.hash:
            return Reason.OUT_OF_ORDER
    return Reason.MISSING


def _moved(events, row: _Row, previous: _Row | None) -> bool:
    """The row belongs elsewhere in the chain: its predecessor now stands after it, its content hashes
    under another sequence number, or time runs backwards at it."""
    n = row.sequence
    linked: Iterable[int] = events.filter(hash=row.prev_hash).values_list("sequence", flat=True)
    candidates = set()
    for sequence in linked:
        if sequence >= n:
            return True
        candidates.add(sequence + 1)
    if row.prev_hash == GENESIS_HASH:
        candidates.add(1)
    candidates |= {sequence - 1 for sequence in events.filter(prev_hash=row.hash).values_list("sequence", flat=True)}
    if any(candidate != n and candidate >= 1 and row.hash_at(candidate) == row.hash for candidate in candidates):
        return True
    return previous is not None and row.occurred_at < previous.occurred_at
