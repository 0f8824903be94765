"""Signed checkpoints and anchors of the hash chains, kept as JSON files outside the database.

A checkpoint says "chain C had N events, the newest with hash H, at time T", signed with the audit signing
key (audit.signing). Whoever rewrites the database cannot rewrite the checkpoint folder too (put it on other
storage in production), so verify_audit, holding each chain against its newest valid checkpoint, finds
events cut off at the end (the chain is shorter than the checkpoint) and a chain rewritten as a whole (the
event at the checkpoint's sequence hashes differently). An anchor says where a chain starts after an
anchored purge (audit.services.purge); it is also kept in the database (AuditAnchor), signed the same way.

Layout: <AUDIT_CHECKPOINT_DIR>/<chain>/<sequence, 12 digits>-checkpoint.json (and -anchor.json), where
<chain> is the chain key with "/" as "-" (e.g. "7", "7-access", "system").
"""
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit import sequencer, signing
from audit.streams import ACCESS, AUDIT, Stream, stream_of_chain
from audit.verification import Anchor, Checkpoint, anchors_in_database, audit_chain_verify
from audit.verification import Anchor as Start
from portal.models import Tenant

FORMAT = "leitplanke-audit-checkpoint/1"
# A checkpoint also signs the leading digits of the hashes of the events since the previous one (every
# event, or every step-th when there are more than PROBES_MAX), so that a rewritten tail can be traced to
# its first changed event (audit.verification._first_rewritten). 16 hex digits: 64 bits.
PROBES_MAX = 20_000
PROBE_DIGITS = 16
CHECKPOINT = "checkpoint"
ANCHOR = "anchor"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredStatement:
    path: Path | None
    statement: dict

    @property
    def chain(self) -> str:
        return self.statement["chain"]

    @property
    def sequence(self) -> int:
        return int(self.statement["sequence"])

    @property
    def hash(self) -> str:
        return self.statement["hash"]

    @property
    def signed_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.statement["signed_at"])
        except (KeyError, ValueError):
            return None


@dataclass
class Problem:
    path: str
    reason: str


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _chain_folder(chain: str) -> str:
    return chain.replace("/", "-")


def statement_build(*, kind: str, chain: str, label: str, sequence: int, hash: str, **extra) -> dict:
    return signing.sign_statement({
        "format": FORMAT, "kind": kind, "chain": chain, "label": label, "sequence": int(sequence), "hash": hash,
        "signed_at": timezone.now().isoformat(), **extra,
    })


def statement_write(statement: dict) -> Path:
    """Write atomically (a reader never sees half a file); an existing file is never overwritten."""
    folder = checkpoint_dir() / _chain_folder(statement["chain"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{int(statement['sequence']):012d}-{statement['kind']}.json"
    if path.exists():
        return path
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(statement, sort_keys=True, indent=1, ensure_ascii=False))
    tmp.replace(path)
    return path


def _valid(path: Path, kind: str, trusted: set[str]) -> dict | None:
    """The statement in the file, if it is a signed `kind` of the chain and sequence its name says."""
    try:
        statement = json.loads(path.read_text())
        matches = (statement.get("format") == FORMAT and statement.get("kind") == kind
                   and str(statement["chain"]).replace("/", "-") == path.parent.name
                   and path.name.startswith(f"{int(statement['sequence']):012d}-"))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return statement if matches and signing.statement_is_valid(statement, trusted) else None


def _read(kind: str, problems: list[Problem] | None = None) -> list[StoredStatement]:
    """Per chain folder, the newest file of `kind` with a valid signature (newer invalid ones are reported
    and skipped). Files are named by zero-padded sequence, so the newest sorts last; older files are never
    read, however many years of checkpoints the folder holds."""
    folder = checkpoint_dir()
    if not folder.is_dir():
        return []
    trusted = signing.trusted_public_keys()
    found = []
    for chain_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(chain_folder.glob(f"*-{kind}.json"), reverse=True):
            statement = _valid(path, kind, trusted)
            if statement is not None:
                found.append(StoredStatement(path, statement))
                break
            if problems is not None:
                problems.append(Problem(str(path), "signature or format invalid; ignored"))
            logger.warning("Audit %s %s: signature or format invalid; ignored.", kind, path)
    return found


def _newest(statements: list[StoredStatement]) -> dict[str, StoredStatement]:
    newest: dict[str, StoredStatement] = {}
    for stored in statements:
        if stored.chain not in newest or stored.sequence > newest[stored.chain].sequence:
            newest[stored.chain] = stored
    return newest


def checkpoints_latest(problems: list[Problem] | None = None) -> dict[str, StoredStatement]:
    """The newest checkpoint with a valid signature, per chain key."""
    return _newest(_read(CHECKPOINT, problems))


def anchors_latest(problems: list[Problem] | None = None) -> dict[str, StoredStatement]:
    """The newest valid anchor per chain, from the checkpoint folder and the database (AuditAnchor)."""
    statements = _read(ANCHOR, problems)
    trusted = signing.trusted_public_keys()
    for anchor in anchors_in_database().values():
        if signing.statement_is_valid(anchor.statement, trusted) and anchor.statement.get("chain") == anchor.chain \
                and int(anchor.statement.get("sequence", -1)) == anchor.sequence:
            statements.append(StoredStatement(None, anchor.statement))
        elif problems is not None:
            problems.append(Problem(f"AuditAnchor {anchor.pk}", "signature invalid; ignored"))
    return _newest(statements)


def probes_of(statement: dict) -> tuple[tuple[int, str], ...]:
    """(sequence, leading hash digits) of the events a checkpoint signed besides its newest."""
    probes = statement.get("probes")
    if not isinstance(probes, dict):
        return ()
    try:
        first, step, digits = int(probes["first"]), int(probes["step"]), int(probes["digits"])
        text = str(probes["hashes"])
    except (KeyError, TypeError, ValueError):
        return ()
    if step < 1 or digits < 8:
        return ()
    return tuple((first + index * step, text[index * digits:(index + 1) * digits])
                 for index in range(len(text) // digits))


def probes_build(*, stream: Stream, chain: str, after: int, up_to: int) -> dict:
    """The probes a new checkpoint signs: events after `after` up to `up_to` (its own sequence)."""
    count = up_to - after
    step = max(1, -(-count // PROBES_MAX))
    hashes = stream.event_model.objects.filter(chain=chain, sequence__gt=after, sequence__lte=up_to)
    if step > 1:
        hashes = hashes.filter(sequence__in=range(after + 1, up_to + 1, step))
    text = "".join(digest[:PROBE_DIGITS] for digest in hashes.order_by("sequence").values_list("hash", flat=True))
    return {"first": after + 1, "step": step, "digits": PROBE_DIGITS, "hashes": text}


def _checkpoint(stored: StoredStatement, older=None) -> Checkpoint:
    return Checkpoint(stored.sequence, stored.hash, probes=probes_of(stored.statement), older=older)


def checkpoints_older(chain: str, before: int) -> Iterator[Checkpoint]:
    """The chain's signed checkpoints older than sequence `before`, newest first, read one file at a time
    (a verifier asks for them only when a chain was rewritten)."""
    folder = checkpoint_dir() / _chain_folder(chain)
    if not folder.is_dir():
        return
    trusted = signing.trusted_public_keys()
    for path in sorted(folder.glob(f"*-{CHECKPOINT}.json"), reverse=True):
        statement = _valid(path, CHECKPOINT, trusted)
        if statement is not None and int(statement["sequence"]) < before and statement["chain"] == chain:
            yield _checkpoint(StoredStatement(path, statement))


def verification_inputs(problems: list[Problem] | None = None) -> tuple[dict[str, Checkpoint], dict[str, Anchor]]:
    """What audit_verify() holds the chains against: {chain: Checkpoint}, {chain: Anchor}."""
    checkpoints = {chain: _checkpoint(s, older=partial(checkpoints_older, chain, s.sequence))
                   for chain, s in checkpoints_latest(problems).items()}
    anchors = {chain: Anchor(s.sequence, s.hash) for chain, s in anchors_latest(problems).items()}
    return checkpoints, anchors


def _labels() -> dict[str, str]:
    labels = {}
    for pk, slug in Tenant.objects.values_list("pk", "slug"):
        labels[AUDIT.chain_key_for(pk)] = slug
        labels[ACCESS.chain_key_for(pk)] = ACCESS.label(slug)
    return labels


def _newest_event(stream: Stream, chain: str) -> tuple[int, str] | None:
    return stream.event_model.objects.filter(chain=chain, sequence__isnull=False).order_by(
        "-sequence").values_list("sequence", "hash").first()


def checkpoints_sign() -> list[Path]:
    """Sign every chain's newest event, once the events since the chain's previous checkpoint verify
    (a chain broken since then is not signed: that would bless the break). Returns the files written."""
    signing.require_private_key()
    sequencer.sequence_all_pending()  # events committed a moment ago are signed too, not left for the next round
    labels = _labels()
    previous = checkpoints_latest()
    anchors = anchors_latest()
    written = []
    for stream in (AUDIT, ACCESS):
        chains = stream.head_model.objects.values_list("chain", flat=True)
        for chain in sorted(chains):
            newest = _newest_event(stream, chain)
            if newest is None:
                continue
            sequence, hash_ = newest
            before = previous.get(chain)
            if before is not None and before.sequence >= sequence:
                continue  # nothing new since
            start = before or anchors.get(chain)
            result = audit_chain_verify(chain=chain, label=labels.get(chain, chain), stream=stream,
                                        anchor=Start(start.sequence, start.hash) if start else None)
            if not result.ok:
                logger.error("Audit chain %s not signed: %s", chain, result.line)
                continue
            statement = statement_build(kind=CHECKPOINT, chain=chain, label=labels.get(chain, chain),
                                        sequence=sequence, hash=hash_, stream=stream_of_chain(chain).key,
                                        probes=probes_build(stream=stream, chain=chain,
                                                            after=start.sequence if start else 0, up_to=sequence))
            written.append(statement_write(statement))
    return written
