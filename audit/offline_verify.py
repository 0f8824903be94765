#!/usr/bin/env python3
"""Check an export of Leitplanke's audit or access log offline (docs/audit-verification.md).

    python offline_verify.py EXPORT_FILE --public-key KEY

KEY is the portal's audit public key as shown in its DSB area: base64 of the 32 raw Ed25519 bytes, or a
file holding that or a PEM public key. Needs only Python 3.10+ and the `cryptography` package; it does not
import anything of the portal.

What it checks, and exits 1 at the first thing that fails:
1. the file's last record signs the SHA-256 of everything before it, with the given key
   (so not one byte was changed since the portal wrote it);
2. the chain is covered without a hole from its start (genesis, or a signed purge anchor) to its head:
   every sequence number is an exported event or the hash of an event left out;
3. every exported event hashes to its stated hash, and links to the hash of the event before it;
4. the head's hash is the hash at the head's sequence number;
5. the signed checkpoint (if any) is signed with the key, and the chain at its sequence has its hash — an
   export that ends before it, or differs there, was cut off or rewritten.
"""
import argparse
import base64
import csv
import hashlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "leitplanke-audit-export/1"
CHECKPOINT_FORMAT = "leitplanke-audit-checkpoint/1"
SIGNATURE_DOMAIN = b"leitplanke-audit-export/1:"
GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "chain", "sequence", "occurred_at", "actor_kind", "actor_user_id", "actor_token_id",
    "event_type", "object_type", "object_id", "details", "prev_hash",
)
INTEGER_FIELDS = ("sequence", "actor_user_id", "actor_token_id", "hash_version")


class Failed(Exception):
    pass


def load_public_key(text: str) -> tuple[Ed25519PublicKey, str]:
    """From base64 (32 raw bytes), a PEM public key, or a file holding either. Returns (key, base64)."""
    path = Path(text)
    if len(text) < 1000 and path.is_file():
        text = path.read_text()
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise Failed("the public key is not an Ed25519 key")
    else:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, base64.b64encode(raw).decode()


def event_hash(values: dict) -> str:
    """The portal's canonical form of an event under its hash version (audit/chain.py)."""
    if values.get("hash_version", 1) == 2:
        return hashlib.sha256(canonical_v2(values)).hexdigest()
    payload = {name: values[name] for name in HASHED_FIELDS}
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# Version 2 (audit/chain.py): a prefix, then per hashed field a newline, its byte length, a colon and its text;
# the timestamp as microseconds since 1970 UTC, details as PostgreSQL writes jsonb.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jsonb_string(value: str) -> str:
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if c < " " else c) for c in value) + '"'


def jsonb_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _jsonb_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        number = Decimal(json.dumps(value))
        text = format(number, "f")
        return text.lstrip("-") if number == 0 else text
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode("utf-8")), key.encode("utf-8")))
        return "{" + ", ".join(f"{_jsonb_string(k)}: {jsonb_text(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    raise Failed(f"not a JSON value: {value!r}")


def _microseconds(timestamp: str) -> int:
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def canonical_v2(values: dict) -> bytes:
    texts = [values["chain"], str(values["sequence"]), str(_microseconds(values["occurred_at"])),
             values["actor_kind"], "" if values["actor_user_id"] is None else str(values["actor_user_id"]),
             "" if values["actor_token_id"] is None else str(values["actor_token_id"]), values["event_type"],
             values["object_type"], values["object_id"], jsonb_text(values["details"]), values["prev_hash"]]
    parts = [b"leitplanke-event/2"]
    for text in texts:
        data = text.encode("utf-8")
        parts.append(b"\n%d:" % len(data) + data)
    return b"".join(parts)


def statement_valid(statement: dict, key: Ed25519PublicKey, key_b64: str) -> bool:
    if not isinstance(statement, dict) or statement.get("public_key") != key_b64:
        return False
    body = {name: value for name, value in statement.items() if name != "signature"}
    message = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    try:
        key.verify(base64.b64decode(statement.get("signature", "")), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --- reading both formats ------------------------------------------------------------------------------

def _split_last_line(data: bytes) -> tuple[bytes, bytes]:
    body = data[:-1] if data.endswith(b"\n") else data
    cut = body.rfind(b"\n") + 1
    return data[:cut], data[cut:]


def _jsonl_records(body: bytes) -> list[dict]:
    records = []
    for number, line in enumerate(body.decode("utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            raise Failed(f"line {number} is not JSON") from None
        if record.get("type") == "gap":
            first = int(record["first"])
            records += [{"type": "gap", "sequence": first + i, "hash": h} for i, h in enumerate(record["hashes"])]
        else:
            records.append(record)
    return records


def _csv_value(name: str, value: str):
    if name in INTEGER_FIELDS:
        return int(value) if value != "" else None
    return value


def _csv_records(body: bytes) -> list[dict]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    if not rows:
        raise Failed("the file is empty")
    columns = rows[0]
    records = []
    for number, row in enumerate(rows[1:], start=2):
        values = dict(zip(columns, row))
        kind = values.get("record")
        if kind == "event":
            record = {"type": "event", **{name: _csv_value(name, values[name]) for name in HASHED_FIELDS
                                          if name != "details"}, "hash": values["hash"],
                      "hash_version": int(values.get("hash_version") or 1)}
            try:
                record["details"] = json.loads(values["details"])
            except ValueError:
                raise Failed(f"row {number}: details are not JSON") from None
            records.append(record)
        elif kind in ("gap", "head"):
            records.append({"type": kind, "sequence": int(values["sequence"]), "hash": values["hash"]})
        elif kind in ("header", "anchor", "checkpoint", "signature"):
            try:
                records.append({"type": kind, **json.loads(values["data"])})
            except ValueError:
                raise Failed(f"row {number}: data is not JSON") from None
        else:
            raise Failed(f"row {number}: unknown record {kind!r}")
    return records


def _signature_record(last: bytes, is_jsonl: bool) -> dict:
    text = last.decode("utf-8")
    if is_jsonl:
        record = json.loads(text)
    else:
        row = next(csv.reader(io.StringIO(text, newline="")))
        if not row or row[0] != "signature":
            raise Failed("the last record is not the signature")
        record = {"type": "signature", **json.loads(row[-1])}
    if record.get("type") != "signature":
        raise Failed("the last record is not the signature")
    return record


# --- the checks ------------------------------------------------------------------------------------------

def verify(data: bytes, key: Ed25519PublicKey, key_b64: str) -> str:
    is_jsonl = data.lstrip()[:1] == b"{"
    body, last = _split_last_line(data)
    try:
        signature = _signature_record(last, is_jsonl)
    except (ValueError, StopIteration):
        raise Failed("the last record is not a readable signature") from None
    digest = hashlib.sha256(body).hexdigest()
    if signature.get("sha256") != digest:
        raise Failed("the file was changed: its SHA-256 differs from the signed one")
    try:
        key.verify(base64.b64decode(signature.get("signature", "")), SIGNATURE_DOMAIN + digest.encode())
    except (InvalidSignature, ValueError, TypeError):
        raise Failed("the signature does not verify with the given public key") from None

    try:
        records = _jsonl_records(body) if is_jsonl else _csv_records(body)
    except (KeyError, ValueError, TypeError) as error:
        raise Failed(f"a record is malformed ({error})") from None
    if not records or records[0].get("type") != "header" or records[0].get("format") != FORMAT:
        raise Failed("no header of a Leitplanke audit export")
    header = records[0]
    chain = header["chain"]
    start, link = int(header.get("start") or 0), GENESIS_HASH
    anchor = next((r for r in records if r["type"] == "anchor"), None)
    if start:
        statement = (anchor or {}).get("statement")
        if not statement or not statement_valid(statement, key, key_b64) or statement.get("chain") != chain \
                or int(statement.get("sequence", -1)) != start:
            raise Failed(f"the chain starts at {start + 1}, but there is no valid signed anchor for it")
        link = statement["hash"]

    hashes: dict[int, str] = {start: link} if start else {}
    expected, exported, left_out = start + 1, 0, 0
    head = checkpoint = None
    for record in records[1:]:
        kind = record["type"]
        if kind in ("event", "gap"):
            sequence = int(record["sequence"])
            if sequence != expected:
                raise Failed(f"sequence {expected} is missing from the export (next is {sequence})")
            if kind == "event":
                if record.get("chain") != chain:
                    raise Failed(f"sequence {sequence}: the event belongs to another chain")
                if event_hash(record) != record["hash"]:
                    raise Failed(f"sequence {sequence}: the event does not hash to its stated hash (modified)")
                before = hashes.get(sequence - 1, GENESIS_HASH if sequence == 1 else None)
                if record["prev_hash"] != before:
                    raise Failed(f"sequence {sequence}: the event does not link to the event before it")
                exported += 1
            else:
                left_out += 1
            hashes[sequence] = record["hash"]
            expected += 1
        elif kind == "head":
            head = record
        elif kind == "checkpoint":
            checkpoint = record.get("statement")
    last_sequence = expected - 1
    end_hash = hashes.get(last_sequence, GENESIS_HASH)
    if head is None or int(head["sequence"]) != last_sequence or end_hash != head["hash"]:
        raise Failed("the head does not match the end of the exported chain")
    note = "no signed checkpoint"
    if checkpoint is not None:
        if not statement_valid(checkpoint, key, key_b64) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise Failed("the checkpoint's signature does not verify")
        if checkpoint.get("chain") != chain:
            raise Failed("the checkpoint belongs to another chain")
        at = int(checkpoint["sequence"])
        if at > last_sequence:
            raise Failed(f"the chain ends at {last_sequence}, before its signed checkpoint at {at}: cut off")
        if at > start and hashes.get(at) != checkpoint["hash"]:
            raise Failed(f"sequence {at}: differs from the signed checkpoint (rewritten)")
        note = f"signed checkpoint at {at} ({checkpoint.get('signed_at', '?')}) matches"
    return (f"OK: {header.get('label', chain)} ({header.get('stream')}): {exported} events exported, {left_out} "
            f"left out, chain {start + 1}..{last_sequence} complete, head {last_sequence}; {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Leitplanke audit export offline.")
    parser.add_argument("export", help="the exported .jsonl or .csv file")
    parser.add_argument("--public-key", help="the portal's audit public key (base64 or PEM, or a file holding it); "
                        "without it the key in the file is used, which proves integrity but not who signed")
    args = parser.parse_args(argv)
    data = Path(args.export).read_bytes()
    try:
        if args.public_key:
            key, key_b64 = load_public_key(args.public_key)
        else:
            key, key_b64 = _embedded_key(data)
            print("warning: no --public-key given; using the key in the file (integrity only)", file=sys.stderr)
        print(verify(data, key, key_b64))
        return 0
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        print(f"FAILED: the file is not a readable export ({error})")
        return 1


def _embedded_key(data: bytes) -> tuple[Ed25519PublicKey, str]:
    is_jsonl = data.lstrip()[:1] == b"{"
    _body, last = _split_last_line(data)
    record = _signature_record(last, is_jsonl)
    return load_public_key(record["public_key"])


if __name__ == "__main__":
    sys.exit(main())
