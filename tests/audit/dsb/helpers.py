"""People, identifiers and helpers of the DSB-area tests."""
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

ERIKA = {"name": "Erika Mustermann", "email": "erika.mustermann@example.de", "number": "K-20001",
         "iban": "DE89370400440532013000"}
OTTO = {"name": "Otto Normalverbraucher", "email": "otto@example.org", "number": "K-20002"}
SUPPLIER = {"name": "Schreinerei Holzwurm", "email": "buero@holzwurm.example", "number": "L-30001",
            "iban": "DE02120300000000202051", "vat_id": "DE123456789"}

TICKET_INPUTS = [
    {"name": "text", "type": "long_text", "required": False},
    {"name": "sender_email", "type": "email", "required": False, "personal_data": True, "category": "contact"},
    {"name": "customer_number", "type": "text", "required": False, "personal_data": True,
     "category": "customer_history"},
]


def erase(*args: str) -> tuple[int, str]:
    """erase_subject's exit code (0, or the CommandError's) and its output (or error message)."""
    out = StringIO()
    try:
        call_command("erase_subject", *args, stdout=out, stderr=StringIO())
        return 0, out.getvalue()
    except CommandError as error:
        return error.returncode, str(error)


def every_stored_text() -> str:
    """The text of every column of every table the ORM knows (history tables and many-to-many tables
    included), one value per line."""
    from django.apps import apps

    lines = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        columns = [f.attname for f in model._meta.concrete_fields]
        for row in model._base_manager.values_list(*columns):
            lines.extend(str(value) for value in row if value is not None)
    return "\n".join(lines)


def today() -> str:
    return f"{timezone.localdate():%Y-%m-%d}"
