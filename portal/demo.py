"""Demo data for `manage.py quickstart`: the tenant "Muster GmbH", one user per role, and whatever the
other apps seed. Every step is idempotent, so running the quick start again changes nothing.

Apps add their own demo data with a module `<app>/demo.py` holding `seed(tenant, users)`, where `users`
maps user names to users; it is called after the portal's part, in INSTALLED_APPS order, and must be
idempotent itself."""
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from portal import services
from portal.choices import Role
from portal.models import Membership, Tenant

TENANT_SLUG = "muster"
TENANT_NAME = "Muster GmbH"
ADMIN_USERNAME = "admin"
# One documented password for every demo account: easy to type, and it passes the password validators
# (a password built from the user name would not: UserAttributeSimilarityValidator).
DEMO_PASSWORD = "leitplanke-demo"

# (user name, roles): one user per role named after it, and a second automation lead and clerk so
# that four-eyes flows can be completed.
DEMO_USERS: list[tuple[str, list[str]]] = [(role.value, [role.value]) for role in Role] + [
    ("automation_lead_2", [Role.AUTOMATION_LEAD.value]),
    ("clerk_2", [Role.CLERK.value]),
]


@dataclass
class DemoLogin:
    username: str
    password: str
    roles: list[str]
    created: bool


@dataclass
class DemoResult:
    tenant: Tenant
    users: dict = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)
    seeders: list[str] = field(default_factory=list)


def _user(username: str, *, is_superuser: bool = False):
    existing = get_user_model().objects.filter(username=username).first()
    if existing is not None:
        return existing, False
    return services.user_create(actor=None, username=username, password=DEMO_PASSWORD,
                                is_superuser=is_superuser), True


def _seed_portal() -> DemoResult:
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=TENANT_SLUG).first() or services.tenant_create(
            actor=None, slug=TENANT_SLUG, name=TENANT_NAME
        )
        result = DemoResult(tenant=tenant)
        admin, created = _user(ADMIN_USERNAME, is_superuser=True)
        result.logins.append(DemoLogin(ADMIN_USERNAME, DEMO_PASSWORD, [], created))
        for username, roles in DEMO_USERS:
            user, created = _user(username)
            # An existing membership is left as it is: someone may have changed it on purpose.
            if not Membership.objects.for_tenant(tenant).filter(user=user).exists():
                services.membership_create(actor=None, tenant=tenant, user=user, roles=roles,
                                           reason="demo data (quickstart)")
            result.users[username] = user
            result.logins.append(DemoLogin(username, DEMO_PASSWORD, roles, created))
    return result


def app_seeders() -> list:
    """`seed(tenant, users)` of every project app that has a demo module, in INSTALLED_APPS order."""
    base = Path(settings.BASE_DIR).resolve()
    seeders = []
    for config in apps.get_app_configs():
        # Only the project's own apps (top-level folders of the checkout), not installed packages.
        if config.name == "portal" or Path(config.path).resolve().parent != base:
            continue
        if module_has_submodule(config.module, "demo"):
            seeders.append(importlib.import_module(f"{config.name}.demo").seed)
    return seeders


def seed() -> DemoResult:
    result = _seed_portal()
    for seeder in app_seeders():
        seeder(result.tenant, result.users)
        result.seeders.append(seeder.__module__)
    return result
