"""Demo data for `manage.py quickstart`: the tenant "Muster GmbH", one user per role, then the demo data of
each part of the product, in the order of SEEDERS. Every step is idempotent, so running the quick start
again changes nothing.

Demo data for a part is a module of this package holding `seed(tenant, users)`, where `users` maps user
names to users; add it to SEEDERS (after what it builds on). It must be idempotent itself."""
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from audit.actors import SYSTEM
from demo import applications as applications_demo
from demo import history as history_demo
from demo import llm as llm_demo
from demo import open_work as open_work_demo
from demo import reviews as reviews_demo
from demo import use_cases as use_cases_demo
from demo import works_council as works_council_demo
from portal import services
from portal.choices import Role
from portal.models import Membership, Tenant

TENANT_SLUG = "muster"
TENANT_NAME = "Muster GmbH"
ADMIN_USERNAME = "admin"
# One documented password for every demo account: easy to type, and it passes the password validators
# (a password built from the user name would not: UserAttributeSimilarityValidator).
DEMO_PASSWORD = "leitplanke-demo"

# (user name, roles): one user per role named after it, a second automation lead and clerk so that
# four-eyes flows can be completed, and a clerk of a second department (Kundenservice) who sees nothing of
# the first one's queues and items.
DEMO_USERS: list[tuple[str, list[str]]] = [(role.value, [role.value]) for role in Role] + [
    ("automation_lead_2", [Role.AUTOMATION_LEAD.value]),
    ("clerk_2", [Role.CLERK.value]),
    ("clerk_kundenservice", [Role.CLERK.value]),
]


# Who each demo account is: a name people recognise in lists and approvals, and an address the portal's
# e-mails go to (on the embedded default they land as files in var/mail/).
DEMO_PEOPLE: dict[str, tuple[str, str]] = {
    "automation_lead": ("Anna", "Berger"), "automation_lead_2": ("Jonas", "Keller"),
    "department_owner": ("Claudia", "Wagner"), "it_operator": ("Tobias", "Schulz"),
    "security_officer": ("Petra", "Neumann"), "data_protection_officer": ("Miriam", "Hoffmann"),
    "works_council": ("Stefan", "Richter"), "clerk": ("Laura", "Fischer"), "clerk_2": ("Mehmet", "Yilmaz"),
    "clerk_kundenservice": ("Julia", "Becker"),
    "auditor": ("Sabine", "Krüger"),
}
DEMO_MAIL_DOMAIN = "muster.example"


def demo_email(username: str) -> str:
    first, last = DEMO_PEOPLE.get(username, (username, ""))
    local = ".".join(part for part in (first, last) if part).lower()
    return f"{local.replace('ü', 'ue').replace('ö', 'oe').replace('ä', 'ae')}@{DEMO_MAIL_DOMAIN}"


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
    first, last = DEMO_PEOPLE.get(username, ("", ""))
    return services.user_create(actor=SYSTEM, username=username, password=DEMO_PASSWORD, is_superuser=is_superuser,
                                first_name=first, last_name=last,
                                email=demo_email(username) if username in DEMO_PEOPLE else ""), True


def _seed_portal() -> DemoResult:
    with transaction.atomic():
        tenant = Tenant.objects.filter(slug=TENANT_SLUG).first() or services.tenant_create(
            actor=SYSTEM, slug=TENANT_SLUG, name=TENANT_NAME
        )
        result = DemoResult(tenant=tenant)
        _admin, created = _user(ADMIN_USERNAME, is_superuser=True)
        result.logins.append(DemoLogin(ADMIN_USERNAME, DEMO_PASSWORD, [], created))
        for username, roles in DEMO_USERS:
            user, created = _user(username)
            # An existing membership is left as it is: someone may have changed it on purpose.
            if not Membership.objects.for_tenant(tenant).filter(user=user).exists():
                services.membership_create(actor=SYSTEM, tenant=tenant, user=user, roles=roles,
                                           reason="Demodaten (Schnellstart)")
            result.users[username] = user
            result.logins.append(DemoLogin(username, DEMO_PASSWORD, roles, created))
    return result


# The registry, execution and training data (use cases live, master data, demo invoices, classifiers), the
# catalogue's language model provider that the service tickets name, then the review queues' briefings,
# trainings and assignments, which build on the use cases, then some weeks of history (items, reviews,
# escalations, deliveries) for the queues, oversight figures and the Leitstand, the high-risk use case with four
# eyes and its open work, the open proposal that waits for the works council's decision, and last the work
# waiting for the other approvers and the DSB (open change requests, an access request).
SEEDERS = (use_cases_demo.seed, llm_demo.seed, reviews_demo.seed, history_demo.seed, applications_demo.seed,
           works_council_demo.seed, open_work_demo.seed)


def app_seeders() -> list:
    """`seed(tenant, users)` of every part that has demo data, in the order they build on each other."""
    return list(SEEDERS)


def seed() -> DemoResult:
    # What the seed stores as text (reasons of the pipeline and the evaluations, history notes) is written in
    # the portal's language, as the worker writes it, whatever the caller's: `quickstart` runs without
    # translations (its console output stays in the source language).
    with translation.override(settings.LANGUAGE_CODE):
        result = _seed_portal()
        for seeder in app_seeders():
            seeder(result.tenant, result.users)
            result.seeders.append(seeder.__module__)
    return result
