"""Permission checks inside services, for any actor: the same tenant-aware backend as views and API."""
from django.core.exceptions import PermissionDenied

from audit.actors import as_actor
from portal.roles import permissions_for_roles
from portal.selectors import roles_of


def actor_has_perm(actor, tenant, perm: str, obj=None) -> bool:
    actor = as_actor(actor)
    if actor.kind == "system":
        return True
    user = actor.user
    user.active_tenant = tenant
    return user.has_perm(perm, obj)


def require_perm(actor, tenant, perm: str, obj=None) -> None:
    if not actor_has_perm(actor, tenant, perm, obj):
        raise PermissionDenied(f"Missing permission {perm} in this tenant.")


def actor_holds_role_perm(actor, tenant, perm: str) -> bool:
    """`perm` from a role the actor holds in the tenant (an active membership). A superuser's blanket
    permission does not count, nor does the system: for acts the law gives to a named function, such as
    the data protection officer's erasures, access answers and legal holds."""
    actor = as_actor(actor)
    if actor.user is None or not getattr(actor.user, "is_active", False):
        return False
    return perm in permissions_for_roles(roles_of(user=actor.user, tenant=tenant))
