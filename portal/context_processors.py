from django.conf import settings

from portal.middleware import second_factor_required
from portal.selectors import tenant_list_for_user


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "active_tenant": getattr(request, "tenant", None),
        "active_roles": list(membership.roles) if membership else [],
        "user_tenants": getattr(request, "user_tenants", None) or tenant_list_for_user(user=user),
        # Outside production a privileged user may work without a second factor (the quick start's demo users):
        # every page says so.
        "second_factor_not_enforced": (not settings.TWO_FACTOR_ENFORCED
                                       and not getattr(user, "is_verified", lambda: False)()
                                       and second_factor_required(request)),
    }
