"""What every registry page shares: the tenant and permission gate, and loading a use case of the
active tenant (another tenant's key is simply not found)."""
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.utils.functional import cached_property
from django.views import View

from automations import selectors
from portal.views import TenantPermissionRequiredMixin


def get_or_404(selector, **kwargs):
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def error_messages(error: Exception) -> list[str]:
    """The sentences of a service's ValidationError or PermissionDenied, for a form or a message."""
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error) or str(PermissionDenied.__doc__)]


def report_error(request, error: Exception) -> None:
    for message in error_messages(error):
        messages.error(request, message)


class RegistryView(TenantPermissionRequiredMixin, View):
    """A registry page inside the active tenant; `permission_required` from the user's roles there."""


class UseCaseMixin:
    """`self.use_case` from the URL's key, inside the active tenant only; read on first use, i.e. after
    the log-in and permission checks, so that a refused user learns nothing about which keys exist."""

    @cached_property
    def use_case(self):
        return get_or_404(selectors.use_case_get, tenant=self.request.tenant, key=self.kwargs["key"])
