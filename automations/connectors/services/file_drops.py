"""File drops for ERP imports: results written as CSV (configurable columns, German number and date formats,
UTF-8 with or without a BOM) or JSON Lines into a folder the ERP imports from, a file per result or one per
interval (automations.registry.connector_settings says what each setting means).

A file appears complete or not at all: it is written under a temporary name in the same folder (a dot-file
ending in `.part`, which importers and the portal's own watched folders skip), flushed to disk, renamed to
its final name, and the folder entry is flushed too. Its name derives from the delivery ids it carries, so a
retry after a crash between the rename and the outbox's commit writes the same file again instead of a
second one; every line carries its delivery id, so that an importer applies each result once.

A missing or unwritable folder (an unmounted share) is a failed attempt like a webhook's 503: retried,
counted by the connector's circuit breaker, a dead letter at the end."""
import csv
import hashlib
import io
import json
import os
import time
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from automations.choices import FieldType
from automations.connectors.services.answers import DeliveryAnswer
from automations.registry.connector_settings import META_COLUMNS, Column, FileDropSettings, file_drop_settings

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TYPE_FORMATS: dict[str, str] = {FieldType.DECIMAL: "decimal", FieldType.INTEGER: "integer", FieldType.DATE: "date"}


def _field_formats(use_case) -> dict[str, str]:
    return {spec["name"]: TYPE_FORMATS.get(str(spec.get("type")), "text")
            for spec in use_case.output_fields or [] if isinstance(spec, dict) and spec.get("name")}


def default_columns(use_cases) -> tuple[Column, ...]:
    """Without configured columns: the delivery id, the item's id, use case and status, then every output
    field of the use cases in the file, in their documented order."""
    names: list[str] = []
    for use_case in use_cases:
        for spec in use_case.output_fields or []:
            if isinstance(spec, dict) and spec.get("name") and spec["name"] not in names:
                names.append(spec["name"])
    return tuple(Column(header=name, value=name) for name in ("delivery_id", "id", "use_case", "status", *names))


def format_decimal(value, decimal: str) -> str | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return format(number, "f").replace(".", decimal)


def format_date(value, date_format: str) -> str | None:
    try:
        day = date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None
    return day.strftime("%d.%m.%Y") if date_format == "dd.mm.yyyy" else day.isoformat()


def cell(value, fmt: str, settings: FileDropSettings) -> str:
    """One CSV cell. A value that does not read as its format is written as it is (a validation failure
    never changes a value); only text cells are guarded against spreadsheet formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if fmt == "decimal":
        text = format_decimal(value, settings.decimal)
        if text is not None:
            return text
    elif fmt == "date":
        text = format_date(value, settings.date_format)
        if text is not None:
            return text
    elif fmt == "integer":
        try:
            return str(int(str(value).strip()))
        except ValueError:
            pass
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    if settings.excel_safe and text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def _meta(delivery, data: dict, name: str):
    if name == "delivery_id":
        return delivery.webhook_id
    if name == "type":
        return delivery.event_type
    if name == "tenant":
        return delivery.tenant.slug
    if name == "timestamp":
        return delivery.created_at.isoformat()
    return data.get(name)


def csv_bytes(rows, settings: FileDropSettings) -> bytes:
    """rows: (delivery, data as the API shows the item). The csv module quotes what needs quoting (a
    delimiter, a quote or a line break inside a value)."""
    use_cases = []
    for delivery, _data in rows:
        if delivery.item.use_case not in use_cases:
            use_cases.append(delivery.item.use_case)
    columns = settings.columns or default_columns(use_cases)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=settings.delimiter, quotechar='"', quoting=csv.QUOTE_MINIMAL,
                        lineterminator="\r\n")
    if settings.header:
        writer.writerow([column.header for column in columns])
    for delivery, data in rows:
        formats = _field_formats(delivery.item.use_case)
        fields = data.get("fields") or {}
        line = []
        for column in columns:
            if column.value in META_COLUMNS:
                line.append(cell(_meta(delivery, data, column.value), column.format or "text", settings))
            else:
                value = (fields.get(column.value) or {}).get("value")
                line.append(cell(value, column.format or formats.get(column.value, "text"), settings))
        writer.writerow(line)
    return buffer.getvalue().encode("utf-8-sig" if settings.bom else "utf-8")


def jsonl_bytes(rows) -> bytes:
    """One JSON object a line: the webhook body (type, tenant, timestamp, data) with the delivery id."""
    lines = [json.dumps({"delivery_id": delivery.webhook_id, "type": delivery.event_type,
                         "tenant": delivery.tenant.slug, "timestamp": delivery.created_at.isoformat(), "data": data},
                        cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
             for delivery, data in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def file_name(connector, deliveries, settings: FileDropSettings) -> str:
    """Per item: <use case>_<delivery id>; batched: <connector>_<oldest result's time>_<digest of the ids>.
    The same deliveries give the same name."""
    if len(deliveries) == 1 and settings.batch == "item":
        delivery = deliveries[0]
        return f"{delivery.item.use_case.key}_{delivery.webhook_id}.{settings.extension}"
    ids = "\n".join(sorted(d.webhook_id for d in deliveries))
    oldest = min(d.created_at for d in deliveries)
    return (f"{connector.key}_{oldest:%Y%m%d-%H%M%S}_{hashlib.sha256(ids.encode()).hexdigest()[:12]}"
            f".{settings.extension}")


def write_atomically(folder: Path, name: str, content: bytes) -> Path:
    """Temporary name in the same folder, fsync, rename, fsync of the folder: a reader sees the whole file
    or none."""
    if not folder.is_dir():
        raise FileNotFoundError(_("The folder %(folder)s does not exist (is the share mounted?).")
                                % {"folder": folder})
    final = folder / name
    temporary = folder / f".{name}.{uuid.uuid4().hex[:8]}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return final


def file_drop_render(*, connector, rows) -> tuple[str, bytes]:
    """The file's name and content for the results `rows` ((delivery, data) pairs); ValidationError when the
    connector's settings do not work."""
    settings = file_drop_settings(connector.settings)
    content = csv_bytes(rows, settings) if settings.format == "csv" else jsonl_bytes(rows)
    return file_name(connector, [delivery for delivery, _data in rows], settings), content


def file_drop_write(*, connector, rows) -> DeliveryAnswer:
    """Write the results `rows` ((delivery, data) pairs) as one file into the connector's folder."""
    started = time.monotonic()
    try:
        name, content = file_drop_render(connector=connector, rows=rows)
    except ValidationError as exc:
        return DeliveryAnswer(False, None, 0, "", " ".join(exc.messages))
    try:
        write_atomically(Path(connector.endpoint), name, content)
    except OSError as exc:
        return DeliveryAnswer(False, None, int((time.monotonic() - started) * 1000), "",
                              f"{type(exc).__name__}: {exc}"[:1000])
    return DeliveryAnswer(True, None, int((time.monotonic() - started) * 1000),
                          _("%(name)s written (%(rows)s result(s), %(bytes)s bytes)")
                          % {"name": name, "rows": len(rows), "bytes": len(content)}, "", target=name)
