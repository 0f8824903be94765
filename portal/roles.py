"""What each role may do: the one table an auditor reads to see who can change what.

Permissions are Django permission strings ("app_label.codename"). They apply in the tenant where the
user holds the role (portal.backends.TenantRoleBackend); object permissions come from django-guardian.
"""
from portal.choices import Role

_READ_REGISTRY = {"portal.view_tenant", "portal.view_membership"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AUTOMATION_LEAD: frozenset(_READ_REGISTRY | {
        "portal.add_membership", "portal.change_membership",
    }),
    Role.DEPARTMENT_OWNER: frozenset(_READ_REGISTRY),
    Role.IT_OPERATOR: frozenset(_READ_REGISTRY),
    Role.SECURITY_OFFICER: frozenset(_READ_REGISTRY),
    Role.DATA_PROTECTION_OFFICER: frozenset(_READ_REGISTRY | {"audit.view_auditevent"}),
    Role.WORKS_COUNCIL: frozenset(_READ_REGISTRY),
    Role.CLERK: frozenset({"portal.view_tenant"}),
    Role.AUDITOR: frozenset(_READ_REGISTRY | {"audit.view_auditevent"}),
}


def permissions_for_roles(roles: list[str]) -> set[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return granted
