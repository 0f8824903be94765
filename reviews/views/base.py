"""What every review page shares: the tenant and permission gate, loading records of the active tenant
only (another tenant's id is simply not found), and turning a service's refusal into a message."""
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.views import View

from portal.views import TenantPermissionRequiredMixin


def get_or_404(selector, **kwargs):
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def error_messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error) or str(PermissionDenied.__doc__)]


def report_error(request, error: Exception) -> None:
    for message in error_messages(error):
        messages.error(request, message)


class ReviewView(TenantPermissionRequiredMixin, View):
    """A review page inside the active tenant; `permission_required` from the user's roles there."""
