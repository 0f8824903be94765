"""Permission checks inside services, for any actor: the same tenant-aware backend as views and API."""
from django.core.exceptions import PermissionDenied
from guardian.backends import ObjectPermissionBackend

from audit.actors import as_actor
from portal.backends import TenantRoleBackend
from portal.roles import DEPARTMENT_BOUND_ROLES, permissions_for_roles
from portal.selectors import roles_of


def actor_has_perm(actor, tenant, perm: str, obj=None) -> bool:
    """Whether the actor holds `perm` in `tenant` (on `obj`). A question only: the user's active tenant
    and anything else on it stay as they were."""
    actor = as_actor(actor)
    if actor.kind == "system":
        return True
    user = actor.user
    if not user.is_active or tenant is None:
        return False
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        return False
    active = getattr(user, "active_tenant", None)
    if active is not None and active.pk == tenant.pk:
        return user.has_perm(perm, obj)  # the request's own tenant: the user's permission caches apply
    if user.is_superuser:
        return True
    if perm in TenantRoleBackend().permissions_in(user, tenant, obj):
        return True
    return obj is not None and ObjectPermissionBackend().has_perm(user, perm, obj)


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


def perm_reach(actor, tenant, perm: str) -> str | None:
    """How far a permission on use cases reaches for the actor in `tenant`: "tenant" (the system, a superuser,
    or a role that holds it for the whole tenant), "department" (held only through a department-bound role,
    portal.roles.DEPARTMENT_BOUND_ROLES: the use cases of their departments) or None (not held). A question
    only, like actor_has_perm."""
    actor = as_actor(actor)
    if actor.kind == "system":
        return "tenant"
    user = actor.user
    if user is None or not user.is_active or tenant is None:
        return None
    if user.is_superuser:
        return "tenant"
    roles = set(roles_of(user=user, tenant=tenant))
    if perm in permissions_for_roles(sorted(roles - DEPARTMENT_BOUND_ROLES)):
        return "tenant"
    if perm in permissions_for_roles(sorted(roles & DEPARTMENT_BOUND_ROLES)):
        return "department"
    return None
