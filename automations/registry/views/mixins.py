"""What every registry page shares: the tenant and permission gate, and loading a use case of the
active tenant (another tenant's key is simply not found)."""
from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property
from django.views import View

from automations.registry import selectors
from portal.views import TenantPermissionRequiredMixin, error_messages, get_or_404, report_error  # noqa: F401 (re-exported)


class RegistryView(TenantPermissionRequiredMixin, View):
    """A registry page inside the active tenant; `permission_required` from the user's roles there."""


class UseCaseMixin:
    """`self.use_case` from the URL's key, inside the active tenant only; read on first use, i.e. after
    the log-in and permission checks, so that a refused user learns nothing about which keys exist."""

    request: HttpRequest
    kwargs: dict[str, Any]

    @cached_property
    def use_case(self):
        return get_or_404(selectors.use_case_get, tenant=self.request.tenant, key=self.kwargs["key"])
