"""What the settings of a file drop or an e-mail delivery connector mean, read and checked in one place: the
catalogue refuses a change request whose settings would not work (with the reason), and the connectors read
the same settings when they deliver.

File drop (type `file_drop`, the target an absolute folder path):
    format       "csv" or "jsonl" (JSON Lines: one line per result, the webhook body plus `delivery_id`)
    profile      "standard" (delimiter ",", decimal point, ISO dates, no BOM) or "de" (German Excel:
                 delimiter ";", decimal comma, dd.mm.yyyy, UTF-8 with BOM); the keys below override it
    delimiter    one character
    decimal      "," or "."
    date_format  "dd.mm.yyyy" or "iso"
    bom          true: UTF-8 with a byte order mark (Excel recognises the encoding by it)
    header       true: a first line with the column headers
    columns      the CSV columns in order: a list of field names, or of {"header": …, "value": …,
                 "format": "text"|"decimal"|"date"|"integer"}; a value is an output field of the use case or
                 one of META_COLUMNS. Without it: delivery_id, id, use_case, status and every output field.
    batch        "item" (a file per result) or "interval" (one file per interval with every result due)
    interval     seconds between the files of a batched connector (300)
    excel_safe   true: a text cell starting with = + - @ gets a leading ' so that a spreadsheet does not
                 run it as a formula (numbers and dates are never changed)

E-mail (type `email`, the target empty for the portal's own mail settings, or smtp://user@host:587 with
STARTTLS, smtps://user@host:465, plain smtp:// on loopback outside production only; the password is the
connector's credential):
    reply_field      the output field whose final value is sent ("reply")
    recipient_field  the input field with the recipient's address ("sender_email")
    subject_field    the input field with the subject answered ("subject")
    subject_prefix   put before the subject ("AW: ")
    from_email       the sender (DEFAULT_FROM_EMAIL)
    starttls         true for smtp:// off loopback
    timeout          seconds (30)
The disclosure line (EU AI Act Art. 50) is not a connector setting: it comes from the use case's
documentation, the `disclosure` of the reply field."""
import ipaddress
import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from automations.choices import ConnectorDirection, ConnectorType

FILE_DROP_FORMATS = ("csv", "jsonl")
PROFILES = {
    "standard": {"delimiter": ",", "decimal": ".", "date_format": "iso", "bom": False},
    "de": {"delimiter": ";", "decimal": ",", "date_format": "dd.mm.yyyy", "bom": True},
}
DATE_FORMATS = ("iso", "dd.mm.yyyy")
COLUMN_FORMATS = ("text", "decimal", "date", "integer")
BATCH_MODES = ("item", "interval")
# Columns that describe the delivery and the item rather than one of its fields.
META_COLUMNS = ("delivery_id", "id", "use_case", "status", "type", "tenant", "timestamp", "source", "external_id",
                "finalised_at")
MIN_INTERVAL, MAX_INTERVAL = 10, 86_400


@dataclass(frozen=True)
class Column:
    header: str
    value: str
    format: str = ""  # "": from the field's documented type


@dataclass(frozen=True)
class FileDropSettings:
    format: str
    columns: tuple[Column, ...] | None
    delimiter: str
    decimal: str
    date_format: str
    bom: bool
    header: bool
    batch: str
    interval: int
    excel_safe: bool

    @property
    def extension(self) -> str:
        return "csv" if self.format == "csv" else "jsonl"


@dataclass(frozen=True)
class EmailSettings:
    reply_field: str
    recipient_field: str
    subject_field: str
    subject_prefix: str
    from_email: str
    starttls: bool | None
    timeout: float


def _bool(settings: dict, name: str, default: bool) -> bool:
    value = settings.get(name, default)
    if not isinstance(value, bool):
        raise ValidationError(_("The setting %(name)s is true or false.") % {"name": name})
    return value


def _columns(raw) -> tuple[Column, ...] | None:
    if raw in (None, []):
        return None
    if not isinstance(raw, list):
        raise ValidationError(_("The columns are a list of field names or of {\"header\", \"value\"} objects."))
    columns = []
    for spec in raw:
        if isinstance(spec, str):
            spec = {"header": spec, "value": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("value"), str) or not spec["value"].strip():
            raise ValidationError(_("Every column names its value (a field of the use case or %(meta)s).")
                                  % {"meta": ", ".join(META_COLUMNS)})
        if set(spec) - {"header", "value", "format"}:
            raise ValidationError(_("A column has a header, a value and a format, nothing else."))
        header = spec.get("header", spec["value"])
        fmt = spec.get("format", "")
        if not isinstance(header, str) or (fmt and fmt not in COLUMN_FORMATS):
            raise ValidationError(_("The column %(value)s: the header is a text, the format one of %(formats)s.")
                                  % {"value": spec["value"], "formats": ", ".join(COLUMN_FORMATS)})
        columns.append(Column(header=header, value=spec["value"].strip(), format=fmt))
    return tuple(columns)


def file_drop_settings(settings: dict | None) -> FileDropSettings:
    """The file drop's settings with the profile's defaults filled in; ValidationError with the reason."""
    settings = settings or {}
    if not isinstance(settings, dict):
        raise ValidationError(_("The settings are an object."))
    fmt = settings.get("format", "csv")
    if fmt not in FILE_DROP_FORMATS:
        raise ValidationError(_("The file format is csv or jsonl."))
    profile_name = settings.get("profile", "standard")
    if profile_name not in PROFILES:
        raise ValidationError(_("The profile is standard or de (German Excel: ';', decimal comma, dd.mm.yyyy)."))
    profile = PROFILES[profile_name]
    delimiter = settings.get("delimiter", profile["delimiter"])
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ValidationError(_("The delimiter is one character, e.g. ; or ,."))
    decimal = settings.get("decimal", profile["decimal"])
    if decimal not in (",", "."):
        raise ValidationError(_("The decimal separator is , or .."))
    if decimal == delimiter:
        raise ValidationError(_("The decimal separator and the delimiter must differ."))
    date_format = settings.get("date_format", profile["date_format"])
    if date_format not in DATE_FORMATS:
        raise ValidationError(_("The date format is dd.mm.yyyy or iso."))
    batch = settings.get("batch", "item")
    if batch not in BATCH_MODES:
        raise ValidationError(_("Files are written per item or per interval."))
    interval = settings.get("interval", 300)
    if not isinstance(interval, int) or isinstance(interval, bool) or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ValidationError(_("The interval is a whole number of seconds between %(lo)s and %(hi)s.")
                              % {"lo": MIN_INTERVAL, "hi": MAX_INTERVAL})
    return FileDropSettings(
        format=fmt, columns=_columns(settings.get("columns")), delimiter=delimiter, decimal=decimal,
        date_format=date_format, bom=_bool(settings, "bom", bool(profile["bom"])),
        header=_bool(settings, "header", True),
        batch=batch, interval=interval, excel_safe=_bool(settings, "excel_safe", True))


def file_drop_folder_valid(endpoint: str) -> bool:
    return bool(endpoint) and "\0" not in endpoint and posixpath.isabs(endpoint)


def _text(settings: dict, name: str, default: str) -> str:
    value = settings.get(name, default)
    if not isinstance(value, str):
        raise ValidationError(_("The setting %(name)s is a text.") % {"name": name})
    return value


def email_settings(settings: dict | None, *, default_from: str = "") -> EmailSettings:
    settings = settings or {}
    if not isinstance(settings, dict):
        raise ValidationError(_("The settings are an object."))
    names = {name: _text(settings, name, default) for name, default in (
        ("reply_field", "reply"), ("recipient_field", "sender_email"), ("subject_field", "subject"))}
    for name, value in names.items():
        if not value.isidentifier():
            raise ValidationError(_("The setting %(name)s names a field.") % {"name": name})
    from_email = _text(settings, "from_email", default_from)
    if from_email:
        try:
            validate_email(from_email)
        except ValidationError:
            raise ValidationError(_("The sender (from_email) is not an e-mail address.")) from None
    starttls = settings.get("starttls")
    if starttls is not None and not isinstance(starttls, bool):
        raise ValidationError(_("The setting %(name)s is true or false.") % {"name": "starttls"})
    timeout = settings.get("timeout", 30)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 1 <= timeout <= 300:
        raise ValidationError(_("The timeout is between 1 and 300 seconds."))
    return EmailSettings(subject_prefix=_text(settings, "subject_prefix", "AW: "), from_email=from_email,
                         starttls=starttls, timeout=float(timeout), **names)


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def email_target_valid(endpoint: str) -> bool:
    """Empty (the portal's own mail settings) or smtp://[user@]host[:port], smtps://…"""
    if not endpoint:
        return True
    target = urlsplit(endpoint)
    try:
        target.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return target.scheme in ("smtp", "smtps") and bool(target.hostname) and target.path in ("", "/")


def connector_settings_validate(*, connector_type: str, direction: str, endpoint: str, settings) -> None:
    """The catalogue's check of a delivery connector's target and settings (file drop, e-mail)."""
    if connector_type in (ConnectorType.FILE_DROP, ConnectorType.EMAIL) and direction != ConnectorDirection.DELIVERY:
        raise ValidationError(_("File drops and e-mail connectors deliver results (direction delivery); mail "
                                "arrives through an IMAP connector, files through a watched folder."))
    if connector_type == ConnectorType.FILE_DROP:
        if not file_drop_folder_valid(str(endpoint or "")):
            raise ValidationError(_("A file drop's target is an absolute folder path, e.g. /srv/erp/import."))
        file_drop_settings(settings)
    elif connector_type == ConnectorType.EMAIL:
        if not email_target_valid(str(endpoint or "")):
            raise ValidationError(_("An e-mail connector's target is empty (the portal's mail settings) or "
                                    "smtp://user@host:587, smtps://user@host:465."))
        email_settings(settings)
