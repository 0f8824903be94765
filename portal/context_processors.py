from portal.selectors import tenant_list_for_user


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "active_tenant": getattr(request, "tenant", None),
        "active_roles": list(membership.roles) if membership else [],
        "user_tenants": tenant_list_for_user(user=user),
    }
