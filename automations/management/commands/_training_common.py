"""What the use case commands share: tenant, use case and actor from the command line, the input file, and a
service's refusal as the command's error."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import use_case_get
from portal.management.tenants import add_tenant_argument, tenant_from_option
from portal.selectors import membership_get, user_get_by_username


def add_common_arguments(parser) -> None:
    parser.add_argument("use_case", metavar="USE_CASE", help=_("The use case's key, e.g. service-tickets."))
    add_tenant_argument(parser)
    parser.add_argument("--actor", metavar="USERNAME",
                        help=_("Act as this user (with their permissions); by default the system acts."))


def resolve(options) -> tuple[object, UseCase, object]:
    """(tenant, use case, actor); the actor is the system (SYSTEM) unless --actor names a member."""
    tenant = tenant_from_option(options.get("tenant"))
    try:
        use_case = use_case_get(tenant=tenant, key=options["use_case"])
    except UseCase.DoesNotExist:
        raise CommandError(_("No use case %(key)r in %(tenant)s.") % {"key": options["use_case"],
                                                                       "tenant": tenant.slug}) from None
    actor = SYSTEM
    if options.get("actor"):
        actor = user_get_by_username(username=options["actor"])
        if actor is None or membership_get(user=actor, tenant=tenant) is None:
            raise CommandError(_("%(user)s is no active member of %(tenant)s.") % {"user": options["actor"],
                                                                                 "tenant": tenant.slug})
    return tenant, use_case, actor


def existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise CommandError(_("No such file: %(path)s") % {"path": path})
    return path


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """A service's ValidationError or PermissionDenied ends the command with its message."""
    try:
        yield
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from None
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from None


def columns(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]
