"""What every review page shares: the tenant and permission gate, loading records of the active tenant
only (another tenant's id is simply not found), and turning a service's refusal into a message."""
from django.views import View

from portal.views import TenantPermissionRequiredMixin, error_messages, get_or_404, report_error  # noqa: F401 (re-exported)


class ReviewView(TenantPermissionRequiredMixin, View):
    """A review page inside the active tenant; `permission_required` from the user's roles there."""
