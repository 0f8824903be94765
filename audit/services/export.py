"""Export of audit or access events for a filter, as CSV or JSON Lines, streamed, so that a third party can
check it offline with audit/offline_verify.py (docs/audit-verification.md).

The export covers the whole chain from its start (genesis, or the signed anchor of a purge) to its newest
event: every event matching the filter in full, and for every event left out between them its hash, so
that each exported event's link to its predecessor can be checked and no sequence number is missing. Then
the chain head, the newest signed checkpoint (and the anchor), and last a signature over the SHA-256 of
everything before it, made with the audit signing key: changing a single byte of the file breaks it.

Records (JSON Lines: one object a line with "type"; CSV: one row a record, "record" in the first column):
header, anchor (optional), event, gap (JSON Lines: a run of hashes; CSV: one row per left-out event), head,
checkpoint (optional), signature (always last).
"""
import csv
import hashlib
import io
import json
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.utils import timezone

from audit import signing
from audit.chain import HASHED_FIELDS, _timestamp
from audit.models import GENESIS_HASH
from audit.selectors.events import EventFilter, actor_names, event_queryset
from audit.services.checkpoints import anchors_latest, checkpoints_latest
from audit.services.events import audit_event_record

FORMAT = "leitplanke-audit-export/1"
SIGNATURE_DOMAIN = b"leitplanke-audit-export/1:"
CSV_COLUMNS = ["record", "sequence", "occurred_at", "actor_kind", "actor_user_id", "actor_token_id", "event_type",
               "object_type", "object_id", "details", "prev_hash", "hash", "chain", "actor", "hash_version", "data"]
CHUNK = 5000
GAP_RUN = 1000  # hashes per gap line (JSON Lines)
FORMATS = ("csv", "jsonl")


def export_filename(*, tenant, stream: str, fmt: str) -> str:
    return f"{stream}-{tenant.slug}-{timezone.localtime():%Y%m%d-%H%M%S}.{fmt}"


def content_type(fmt: str) -> str:
    return "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"


class _Writer:
    """Encodes records in one format and keeps the running SHA-256 of everything written."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.digest = hashlib.sha256()

    def _emit(self, text: str) -> bytes:
        data = text.encode("utf-8")
        self.digest.update(data)
        return data

    def record(self, kind: str, **values) -> bytes:
        if self.fmt == "jsonl":
            return self._emit(json.dumps({"type": kind, **values}, ensure_ascii=False, separators=(",", ":"),
                                         sort_keys=True) + "\n")
        row = {"record": kind}
        if kind == "event":
            row.update({name: values[name] for name in CSV_COLUMNS if name in values})
            row["details"] = json.dumps(values["details"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        elif kind in ("gap_row", "head"):
            row.update(sequence=values["sequence"], hash=values["hash"])
            row["record"] = "gap" if kind == "gap_row" else "head"
        else:
            row["data"] = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        buffer = io.StringIO()
        cells = ["" if row.get(column) is None else row.get(column) for column in CSV_COLUMNS]
        csv.writer(buffer, lineterminator="\n").writerow(cells)
        return self._emit(buffer.getvalue())

    def header_row(self) -> bytes:
        if self.fmt != "csv":
            return b""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(CSV_COLUMNS)
        return self._emit(buffer.getvalue())

    def gap(self, first: int, hashes: list[str]) -> Iterator[bytes]:
        if self.fmt == "jsonl":
            yield self.record("gap", first=first, hashes=hashes)
        else:
            for offset, digest in enumerate(hashes):
                yield self.record("gap_row", sequence=first + offset, hash=digest)

    def signature(self) -> bytes:
        """The last record, not part of what it signs."""
        hexdigest = self.digest.hexdigest()
        values = {"sha256": hexdigest, "public_key": signing.public_key_b64(),
                  "signature": signing.sign_bytes(SIGNATURE_DOMAIN + hexdigest.encode())}
        return self.record("signature", **values)


def _event_values(row: tuple) -> dict:
    values = dict(zip(("hash", *HASHED_FIELDS, "hash_version"), row))
    values["occurred_at"] = _timestamp(values["occurred_at"])
    return values


def export_stream(*, tenant, filters: EventFilter, fmt: str) -> Iterator[bytes]:
    """The export as a stream of bytes (for StreamingHttpResponse). Reads the chain in chunks by sequence
    number (no long transaction, bounded memory); the head is fixed first, events appended meanwhile are
    not part of it. Needs the signing key (SigningKeyMissing otherwise, raised before the first byte)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}.")
    signing.require_private_key()
    stream = filters.stream_obj
    chain = stream.chain_key(tenant)
    events = stream.event_model.objects.filter(chain=chain)
    head = events.order_by("-sequence").values_list("sequence", "hash").first() or (0, GENESIS_HASH)
    anchor = anchors_latest().get(chain)
    checkpoint = checkpoints_latest().get(chain)
    start = anchor.sequence if anchor else 0
    matching = event_queryset(tenant=tenant, filters=filters)
    return _generate(fmt, tenant, stream, chain, filters, events, matching, head, start, anchor, checkpoint)


def _generate(fmt, tenant, stream, chain, filters, events, matching, head, start, anchor, checkpoint):
    writer = _Writer(fmt)
    yield writer.header_row()
    yield writer.record("header", format=FORMAT, stream=stream.key, chain=chain, label=stream.label(tenant.slug),
                        tenant=tenant.slug, filter=filters.without_subjects().as_params(),
                        subject_filter=bool(filters.subjects), exported_at=timezone.now().isoformat(),
                        hashed_fields=list(HASHED_FIELDS), genesis_hash=GENESIS_HASH, start=start,
                        public_key=signing.public_key_b64())
    if anchor is not None:
        yield writer.record("anchor", statement=anchor.statement)
    last_sequence, head_hash = head
    gap_first, gap = None, []
    exported = 0
    low = start
    while low < last_sequence:
        high = min(low + CHUNK, last_sequence)
        hashes = list(events.filter(sequence__gt=low, sequence__lte=high).order_by("sequence")
                      .values_list("sequence", "hash"))
        chosen = {row[1 + HASHED_FIELDS.index("sequence")]: row for row in matching.filter(
            sequence__gt=low, sequence__lte=high).values_list("hash", *HASHED_FIELDS, "hash_version")}
        names = actor_names([_Actor(row[1 + HASHED_FIELDS.index("actor_user_id")]) for row in chosen.values()])
        for sequence, digest in hashes:
            if sequence in chosen:
                if gap:
                    yield from writer.gap(gap_first, gap)
                    gap_first, gap = None, []
                values = _event_values(chosen[sequence])
                yield writer.record("event", actor=names.get(values["actor_user_id"], ""), **values)
                exported += 1
            else:
                if not gap:
                    gap_first = sequence
                gap.append(digest)
                if fmt == "jsonl" and len(gap) >= GAP_RUN:
                    yield from writer.gap(gap_first, gap)
                    gap_first, gap = None, []
        low = high
    if gap:
        yield from writer.gap(gap_first, gap)
    yield writer.record("head", sequence=last_sequence, hash=head_hash)
    if checkpoint is not None:
        yield writer.record("checkpoint", statement=checkpoint.statement)
    yield writer.signature()


class _Actor:
    def __init__(self, user_id):
        self.actor_user_id = user_id


def audit_export_start(*, actor, tenant, filters: EventFilter, fmt: str) -> Iterator[bytes]:
    """Record the export in the audit log (what was exported, never whose identifier was searched), then
    hand out its stream. Permission checks are the caller's (view or API), as for every read."""
    params = filters.without_subjects().as_params()
    if "actor" in params:  # a user name may be an e-mail address: the audit log keeps the id
        params["actor"] = get_user_model().objects.filter(username=params["actor"]).values_list(
            "pk", flat=True).first()
    stream = export_stream(tenant=tenant, filters=filters, fmt=fmt)
    audit_event_record(actor=actor, tenant=tenant, event_type="audit_export.created",
                       details={"stream": filters.stream, "format": fmt, "filter": params,
                                "subject_filter": bool(filters.subjects)})
    return stream
