"""Permission checks inside services, for any actor: the same tenant-aware backend as views and API."""
from django.core.exceptions import PermissionDenied

from audit.actors import as_actor


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
