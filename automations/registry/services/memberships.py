"""Role changes from the members page and the API, under the rules of docs/roles.md: granting a control
role is a change request of the kind `membership_roles` (applied by change control when approved);
every other change is applied at once by portal.services, with the tenant's dual-role setting."""
from django.utils.translation import gettext as _

from audit.actors import as_actor
from automations.choices import ChangeKind
from automations.registry.models.changes import ChangeRequest
from automations.registry.selectors import tenant_policy_get
from automations.registry.services.changes import change_request_create
from portal.choices import Role
from portal.models import Membership, Tenant
from portal.roles import control_roles_granted
from portal.services import membership_create, membership_set_roles


def membership_roles_request(*, actor, tenant: Tenant, user, roles: list[str], reason: str,
                             membership: Membership | None = None) -> Membership | ChangeRequest:
    """Give `user` these roles in the tenant (a new membership when `membership` is None). Returns the
    membership when the change was applied, or the change request that now awaits approval."""
    before = list(membership.roles) if membership is not None else []
    granted = control_roles_granted(before, roles)
    if granted and as_actor(actor).user is not None:
        labels = ", ".join(str(Role(role).label) for role in granted)
        return change_request_create(
            actor=actor, tenant=tenant, kind=ChangeKind.MEMBERSHIP_ROLES,
            title=_("%(roles)s for %(user)s") % {"roles": labels, "user": user.get_username()},
            description=reason.strip() or _("Grant %(roles)s to %(user)s.") % {"roles": labels,
                                                                              "user": user.get_username()},
            payload={"user_id": user.pk, "roles": sorted(set(roles))})
    allow_dual = tenant_policy_get(tenant=tenant).allow_dual_role
    if membership is None:
        return membership_create(actor=actor, tenant=tenant, user=user, roles=roles, reason=reason,
                                 allow_dual_role=allow_dual)
    return membership_set_roles(actor=actor, membership=membership, roles=roles, reason=reason,
                                allow_dual_role=allow_dual)
