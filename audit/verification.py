"""Verifying the audit chains (``manage.py verify_audit``).

A chain is read once, in sequence order, as a stream (bounded memory on millions of rows); each row must
carry the next sequence number, hash to its stored hash, and link to the previous row's hash. At the
first row that does not, a few indexed look-ups classify what happened to it. AuditChainHead, which
the runtime role may write, serves as a hint only: it finds the newest events deleted, unless whoever
deleted them reset the head as well (signed checkpoints will find that).
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connections, router, transaction
from django.db.models import Max

from audit import sequencer
from audit.chain import HASHED_FIELDS, compute_hash
from audit.models import GENESIS_HASH, SYSTEM_CHAIN, AuditAnchor, AuditChainHead, AuditEvent
from audit.streams import ACCESS, AUDIT, Stream, stream_of_chain
from portal.models import Tenant

CHUNK_SIZE = 5000
_FAST_CHUNK = 5000  # sequence numbers per range read by the PostgreSQL verifier
# How many deleted rows a "closed gap" (rows renumbered down after a deletion) may span to be recognised.
_CLOSED_GAP_SEARCH = 10_000
_COLUMNS = ("id", "hash", *HASHED_FIELDS, "hash_version")


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
    unnoticed.

    `probes` (sequence -> leading hex digits of that event's hash) are the events since the previous
    checkpoint as signed with this one; `older` reads the chain's earlier checkpoints, newest first, on
    demand. Both serve to name the first event of a rewritten tail rather than the checkpoint's own."""

    sequence: int
    hash: str
    probes: tuple[tuple[int, str], ...] = ()
    older: Callable[[], Iterable["Checkpoint"]] | None = field(default=None, compare=False, repr=False)


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


# At most this many failing events are named per chain; the summary line gives the total.
MAX_LISTED_FAILURES = 100


@dataclass(frozen=True)
class ChainResult:
    chain: str  # the chain key: a tenant's id, "<id>/access", or "system"
    label: str  # what people call it: the tenant's slug, "<slug>/access", or "system"
    events: int
    failures: tuple[Failure, ...] = ()
    checkpoint: int | None = None  # the sequence of the signed checkpoint it was held against
    anchor: int | None = None  # the sequence of the anchor it started after
    failure_count: int = 0  # every failing event, also those beyond MAX_LISTED_FAILURES

    @property
    def stream(self) -> str:
        return stream_of_chain(self.chain).key

    @property
    def failure(self) -> Failure | None:
        """The first failing event (the one the contract line names)."""
        return self.failures[0] if self.failures else None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def line(self) -> str:
        """`LABEL: N events ok`, or `LABEL: sequence N: REASON` for the first failing event."""
        if self.failure is None:
            return f"{self.label}: {self.events} events ok"
        return f"{self.label}: sequence {self.failure.sequence}: {self.failure.reason}"

    @property
    def lines(self) -> list[str]:
        """What verify_audit prints: the line above first; for a broken chain every further failing event
        (up to MAX_LISTED_FAILURES) and a summary."""
        if self.failure is None:
            return [self.line]
        listed = [f"{self.label}: sequence {f.sequence}: {f.reason}" for f in self.failures]
        total = max(self.failure_count, len(self.failures))
        more = f", {total - len(self.failures)} more not listed" if total > len(self.failures) else ""
        return [*listed, (f"{self.label}: {total} failing event{'s' if total != 1 else ''} among {self.events} "
                         f"read, the first at sequence {self.failure.sequence}{more}")]


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
        try:
            return compute_hash(self.values | {"sequence": sequence})
        except (ValueError, TypeError):  # a hash version or a value no writer produces: changed by hand
            return ""


def _row(values: tuple) -> _Row:
    return _Row(id=values[0], hash=values[1], values=dict(zip((*HASHED_FIELDS, "hash_version"), values[2:])))


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
            return _walk_fast(connection, stream, chain, label, checkpoint, _head(stream, chain), anchor)
    # SQLite streams from its cursor anyway; a transaction there (IMMEDIATE) would block every writer.
    return _walk(stream, chain, label, checkpoint, _head(stream, chain), anchor)


def _walk_fast(connection, stream: Stream, chain: str, label: str, checkpoint: Checkpoint | None,
               head: Checkpoint | None, anchor: Anchor | None) -> ChainResult:
    """PostgreSQL: the server rebuilds each version-2 event's canonical bytes from its columns and hashes them
    (audit_event_hash_v2, in C) and hands the chain over in ranges of 5,000 events, each as one text; Python
    compares sequence numbers, links and hashes. Version-1 events are hashed in Python first. At the first
    thing that does not fit, the row-by-row walk takes over from there to say what happened."""
    events = stream.event_model.objects.filter(chain=chain)
    start = anchor.sequence if anchor is not None else 0
    marks = {"checkpoint": checkpoint.sequence if checkpoint else None, "anchor": anchor.sequence if anchor else None}
    if anchor is not None:
        kept = events.filter(sequence=anchor.sequence).values_list("hash", flat=True).first()
        if kept is not None and kept != anchor.hash:  # the row-by-row walk names this and what follows
            return _walk(stream, chain, label, checkpoint, head, anchor)
    first_v1_failure = _first_v1_failure(events.filter(sequence__gt=start, hash_version=1))
    table = connection.ops.quote_name(stream.event_model._meta.db_table)
    # The rows in ranges of sequence numbers (an index range scan each), every range as one text value of
    # tab-separated lines: sequence, prev_hash, stored hash, the hash the server computes from the columns.
    query = (f"SELECT pg_catalog.string_agg(concat_ws(E'\\t', sequence, COALESCE(prev_hash, ''), "
             f"COALESCE(hash, ''), COALESCE(CASE hash_version WHEN 2 THEN "
             f"{sequencer.HASH_FUNCTION}({sequencer.HASH_ARGUMENTS}) WHEN 1 THEN hash END, '-')), "
             f"E'\\n' ORDER BY sequence) "
             f"FROM {table} WHERE chain = %s AND sequence > %s AND sequence <= %s")
    last_stored = events.filter(sequence__gt=start).aggregate(last=Max("sequence"))["last"] or start
    expected = start + 1
    links = [GENESIS_HASH, GENESIS_HASH] if anchor is None else ["", anchor.hash]
    before_last, last = links
    stop_at = first_v1_failure if first_v1_failure is not None else -1
    known: dict[int, set[str]] = {}
    for mark in (checkpoint, head):
        if mark is not None:
            known.setdefault(mark.sequence, set()).add(mark.hash)
    broken = False
    with connection.cursor() as cursor:
        for low in range(start, last_stored, _FAST_CHUNK):
            cursor.execute(query, [chain, low, low + _FAST_CHUNK])
            text = cursor.fetchone()[0]
            for line in text.split("\n") if text else ():
                sequence, prev_hash, stored, computed = line.split("\t")
                if (int(sequence) != expected or prev_hash != last or computed != stored or expected == stop_at
                        or (expected in known and any(value != stored for value in known[expected]))):
                    broken = True
                    break
                before_last, last = last, stored
                expected += 1
            if broken:
                break
    count = expected - 1 - start
    cut = (checkpoint is not None and expected - 1 < checkpoint.sequence) or (
        head is not None and expected - 1 < head.sequence)
    if broken or cut:
        # From the first thing that does not fit, the row-by-row walk takes over: it names that event as
        # it always did, and every further failing one.
        return _walk(stream, chain, label, checkpoint, head, anchor, resume=(expected, count, before_last, last))
    return ChainResult(chain, label, count, (), checkpoint=marks["checkpoint"], anchor=marks["anchor"])


def _first_v1_failure(rows) -> int | None:
    """The sequence of the first version-1 event (hashed in Python) that does not hash to its stored hash."""
    for values in rows.order_by("sequence").values_list(*_COLUMNS).iterator(chunk_size=CHUNK_SIZE):
        row = _row(values)
        if row.hash_at(row.sequence) != row.hash:
            return row.sequence
    return None


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


class _Walk:
    """Reads one chain in order and names every failing event.

    Up to the first break the walk is what it always was: each row must carry the next sequence number,
    hash to its hash and link to the row before (the fast path), and the first break is classified by
    _classify. After a break the walk goes on: it finds where each further row belongs (the sequence number
    it was written with, its *original*), follows a renumbering that a deletion or an insertion caused, and
    names only new breaks: a row changed where it stands, events missing, a row that belongs elsewhere."""

    def __init__(self, events, start: int, start_hash: str, checkpoint: Checkpoint | None, head: Checkpoint | None):
        self.events = events
        self.start = start
        self.checkpoint, self.head = checkpoint, head
        self.failures: list[Failure] = []
        self.failure_count = 0
        self.count = 0
        self.expected = start + 1  # the next stored sequence number
        self.links = [GENESIS_HASH, GENESIS_HASH] if start == 0 else ["", start_hash]  # as read
        self.previous: _Row | None = None
        # After a break: stored minus original sequence of the rows being read, the original sequence of the
        # last row in its place, hashes of recently read rows by original sequence, originals already named.
        self.offset = 0
        self.last = start
        self.known: dict[int, str] = {start: start_hash}
        self.named: set[int] = set()
        self.accept_link = False
        self.wide_searches = 0

    # --- reporting ---

    def fail(self, failure: Failure) -> None:
        if any(f.sequence == failure.sequence for f in self.failures):
            return
        self.failure_count += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append(failure)

    @property
    def broken(self) -> bool:
        return self.failure_count > 0

    # --- rows ---

    def read(self, row: _Row) -> None:
        n = row.sequence
        self.count += 1
        if not self.broken and n == self.expected and row.prev_hash == self.links[1] and row.hash_at(n) == row.hash:
            self._in_place(row, n)
            return
        if not self.broken:  # the first break, named as it always was
            if n < self.expected:
                first = Failure(n, Reason.INSERTED)
            elif n > self.expected:
                first = Failure(self.expected, _classify_gap(self.events, self.expected, self.links))
            else:
                first = _classify(self.events, row, self.previous, self.links)
            self.fail(first)
            if first.sequence != n:  # the event that belongs there is missing or stands elsewhere
                self.named.add(first.sequence - self.offset)
            self._recover(row, report=False)
        else:
            self._recover(row, report=True)
        self._advance(row)

    def _in_place(self, row: _Row, original: int) -> None:
        self._remember(original, row.hash)
        self.last = original
        self._check_marks(row, original)
        self._advance(row)

    def _advance(self, row: _Row) -> None:
        self.links = [self.links[1], row.hash]
        self.previous = row
        self.expected = max(self.expected, row.sequence + 1)

    def _remember(self, original: int, digest: str) -> None:
        self.known[original] = digest
        self.known.pop(original - 256, None)

    def _check_marks(self, row: _Row, original: int) -> None:
        checkpoint, head = self.checkpoint, self.head
        if checkpoint is not None and original == checkpoint.sequence and row.hash != checkpoint.hash:
            # Linked and intact, yet not what was signed: the chain was rewritten up to here.
            self.fail(Failure(_first_rewritten(self.events, checkpoint, self.offset, self.start), Reason.MODIFIED))
        elif head is not None and original == head.sequence and row.hash != head.hash and self.offset == 0:
            self.fail(Failure(row.sequence, Reason.MODIFIED))

    def _recover(self, row: _Row, *, report: bool) -> None:
        n = row.sequence
        original = self._original(row)
        if original is None:  # changed where it stands
            if report:
                self.fail(self._classified(row))
            self.last = n - self.offset
            self.known.pop(self.last, None)  # what it hashed to when written is unknown
            self.accept_link = True
            return
        self._skip_named()
        if original <= self.last or original in self.named:  # an event that belongs earlier
            if self.known.get(original) != row.hash and row.prev_hash == self.known.get(original - 1):
                # A second row for one place, linked like the first: one of them was put in.
                if report and original in self.known:
                    self.fail(Failure(n, Reason.INSERTED))
                self._remember(original, row.hash)
            elif report and original not in self.named:
                copied = self.known.get(original) == row.hash or (
                    original not in self.known and self.events.filter(hash=row.hash).exclude(pk=row.id).exists())
                self.fail(Failure(n, Reason.INSERTED if copied else Reason.OUT_OF_ORDER))
            self.named.add(original)
            return
        linked = self.accept_link or row.prev_hash == self.known.get(original - 1)
        if original > self.last + 1:
            # Events last+1 .. original-1 are not here. Either this row stands too early (the next row does
            # not follow it), or they were deleted, or they stand later in the chain.
            if not self._followed(row, original):
                if report:
                    self.fail(Failure(n, Reason.OUT_OF_ORDER))
                self.named.add(original)
                self._remember(original, row.hash)
                return
            if report and not self.events.filter(hash=row.prev_hash).exists():
                self.fail(Failure(self.last + 1 + self.offset, Reason.MISSING))
        elif not linked and report:
            self.fail(self._classified(row))
        # In order from here (a renumbering after a deletion or insertion follows the break named).
        self.offset = n - original
        self.accept_link = False
        self.last = original
        self._remember(original, row.hash)
        self._check_marks(row, original)

    def _classified(self, row: _Row) -> Failure:
        """A later break, classified like the first while the budget for look-ups lasts."""
        if row.sequence != self.expected or self.wide_searches >= _WIDE_SEARCHES:
            return Failure(row.sequence, Reason.MODIFIED)
        self.wide_searches += 1
        return _classify(self.events, row, self.previous, self.links)

    def _skip_named(self) -> None:
        """Originals already read out of place count as read."""
        while self.last + 1 in self.named:
            self.last += 1

    def _followed(self, row: _Row, original: int) -> bool:
        """Does the row stored after this one continue from it (or is this the chain's last row)?"""
        values = self.events.filter(sequence__gt=row.sequence).order_by("sequence").values_list(*_COLUMNS).first()
        if values is None:
            return True
        following = _row(values)
        return following.prev_hash == row.hash or following.hash_at(original + 1) == following.hash

    def _original(self, row: _Row) -> int | None:
        """The sequence number the row was written with, if it is intact: where it stands, where the
        current renumbering puts it, a few places around, or after its predecessor / before its successor."""
        n = row.sequence
        guess = n - self.offset
        for candidate in dict.fromkeys((guess, n, guess + 1, guess - 1, guess + 2, guess - 2, guess + 3, guess - 3)):
            if candidate > self.start and row.hash_at(candidate) == row.hash:
                return candidate
        if self.wide_searches >= _WIDE_SEARCHES:
            return None
        self.wide_searches += 1
        candidates = {s + 1 for s in self.events.filter(hash=row.prev_hash).values_list("sequence", flat=True)}
        candidates |= {s - 1 for s in self.events.filter(prev_hash=row.hash).values_list("sequence", flat=True)}
        if row.prev_hash == GENESIS_HASH:
            candidates.add(1)
        for stored in sorted(candidates):
            for candidate in (stored, stored - self.offset):
                if candidate > self.start and row.hash_at(candidate) == row.hash:
                    return candidate
        return None

    def finish(self) -> None:
        self._skip_named()
        last = self.last if self.broken else self.expected - 1
        if self.checkpoint is not None and last < self.checkpoint.sequence:
            self.fail(Failure(last + 1 + self.offset, Reason.CUT_OFF))
        elif self.head is not None and last < self.head.sequence:
            self.fail(Failure(last + 1 + self.offset, Reason.MISSING))
        self.failures.sort(key=lambda failure: failure.sequence)


# How often one walk may look a row's place up in the database (by its links) after the first break.
_WIDE_SEARCHES = 1000


def _walk(stream: Stream, chain: str, label: str, checkpoint: Checkpoint | None, head: Checkpoint | None,
          anchor: Anchor | None = None, resume: tuple[int, int, str, str] | None = None) -> ChainResult:
    """Row by row, in Python. `resume` = (sequence, rows read, the two hashes before it) continues a walk that
    found everything before that sequence intact (_walk_fast)."""
    events = stream.event_model.objects.filter(chain=chain)
    start = anchor.sequence if anchor is not None else 0
    walk = _Walk(events, start, anchor.hash if anchor is not None else GENESIS_HASH, checkpoint, head)
    first = start
    if resume is not None:
        first = resume[0] - 1
        walk.count, walk.expected, walk.last = resume[1], resume[0], resume[0] - 1
        walk.links = [resume[2], resume[3]]
        for values in events.filter(sequence__gt=max(start, first - 256), sequence__lte=first).values_list(*_COLUMNS):
            walk._remember(values[_COLUMNS.index("sequence")], values[1])
            if values[_COLUMNS.index("sequence")] == first:
                walk.previous = _row(values)
    rows = (
        events.filter(sequence__gt=first)
        .order_by("sequence")
        .values_list(*_COLUMNS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    if anchor is not None and resume is None:
        # The anchored row itself, if it is still there (the purge was not carried out), must match.
        kept = events.filter(sequence=anchor.sequence).values_list("hash", flat=True).first()
        if kept is not None and kept != anchor.hash:
            walk.fail(Failure(anchor.sequence, Reason.MODIFIED))
    for values in rows:
        walk.read(_row(values))
    walk.finish()
    return ChainResult(chain, label, walk.count, tuple(walk.failures),
                       checkpoint=checkpoint.sequence if checkpoint else None,
                       anchor=anchor.sequence if anchor else None, failure_count=walk.failure_count)


def _first_rewritten(events, checkpoint: Checkpoint, offset: int, start: int) -> int:
    """The first event of a rewritten tail (a chain whose newest events were changed and hashed afresh, so
    that it links up again): the checkpoint tells that it was rewritten, its earlier checkpoints and the
    hashes signed with them tell from where. Without them, the oldest checkpoint known to differ."""
    differing, intact = checkpoint, None
    for older in (checkpoint.older() if checkpoint.older else ()):
        stored = events.filter(sequence=older.sequence + offset).values_list("hash", flat=True).first()
        if stored == older.hash:
            intact = older
            break
        differing = older
    low = intact.sequence if intact is not None else start
    probes = sorted((sequence, prefix) for sequence, prefix in differing.probes if low < sequence <= differing.sequence)
    if probes:
        current = dict(events.filter(sequence__gt=low + offset, sequence__lte=differing.sequence + offset)
                       .values_list("sequence", "hash"))
        for sequence, prefix in probes:
            digest = current.get(sequence + offset)
            if digest is None or not digest.startswith(prefix):
                return sequence
    return differing.sequence


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
