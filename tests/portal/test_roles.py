"""The role table (portal.roles): read-only roles hold only permissions to read."""
import pytest

from portal.choices import Role
from portal.roles import permissions_for_roles


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.WORKS_COUNCIL])
def test_read_only_roles_may_only_read(role):
    writes = sorted(perm for perm in permissions_for_roles([role]) if not perm.split(".", 1)[1].startswith("view_"))
    assert writes == []


def test_only_the_data_protection_officer_starts_a_verification_run():
    starters = {role for role in Role.values if "audit.add_verificationrun" in permissions_for_roles([role])}
    assert starters == {Role.DATA_PROTECTION_OFFICER}
