"""The German UI as each demo user finds it after the quick start: every page reachable by links from the
home page speaks German — no field key of the data model (`invoice_number`, `gross_total: 0.95`,
`user.logged_in`), no English word of the kinds people met (production, threshold, engine, Run …), no message
the German catalogue leaves untranslated or that was rendered in English — and no link to a page that refuses
the user who is shown it."""
import importlib
import inspect
import re
import time

import pytest
from django.db import models

from audit.registry import all_types
from automations.registry.models.use_cases import UseCase
from demo import seed as demo
from tests import access
from tests.portal import german_crawl as crawl

pytestmark = pytest.mark.django_db

# English words people met in the German UI, and words of the same kind: status and label keys
# (lower case, as keys are written; "Pilot" and "Bank" are German nouns too), the registry's terms, the
# pipeline's states, and English function words that only stand in an English sentence. "Label", "Release",
# "Engine" and "Training" are not listed: the German UI uses them as loan words ("Release-Label",
# "Engine-Konfiguration"); "engine" in lower case (a key, "Demo engine") is.
ENGLISH_WORDS = [
    # case-insensitive
    r"(?i:thresholds?)", "engines?", r"(?i:classifiers?)", r"(?i:invoices?)", r"(?i:documented)",
    r"(?i:production)", r"(?i:drafts?)", r"(?i:suspended)", r"(?i:retired)", r"(?i:runs?)",
    r"(?i:pending)", r"(?i:approved)", r"(?i:rejected)", r"(?i:applied)", r"(?i:escalated)",
    r"(?i:received)", r"(?i:processing)", r"(?i:clarification)", r"(?i:failed)", r"(?i:delivered)",
    r"(?i:queues?)", r"(?i:priority)", r"(?i:confidence)", r"(?i:required)", r"(?i:suggested)",
    r"(?i:expected)", r"(?i:updated)", r"(?i:changed)", r"(?i:created)", r"(?i:checked)", r"(?i:choices)",
    r"(?i:settings)", r"(?i:reviewed)", r"(?i:sample)",
    r"(?i:the)", r"(?i:and)", r"(?i:with)", r"(?i:without)", r"(?i:of)", r"(?i:this)", r"(?i:that)",
    r"(?i:for)", r"(?i:is)", r"(?i:are)", r"(?i:by)", r"(?i:after)", r"(?i:before)", r"(?i:none)",
    # keys, lower case only
    "pilot", "bank", "contact", "contract", "employee", "health", "identification", "other",
    "category", "text", "decimal", "integer", "date", "boolean", "email",
    # upper-case keys (a setting's or a choice's name)
    r"[A-Z]{2,}_[A-Z_]+",
]
ENGLISH = re.compile(r"(?<![\w-])(" + "|".join(ENGLISH_WORDS) + r")(?![\w-])")

PRODUCT_CHOICES = ("audit.choices", "automations.choices", "automations.documents.choices",
                   "automations.evaluation.choices", "automations.quality.choices", "portal.choices",
                   "reviews.choices")


def choice_keys() -> set[str]:
    """Values of the product's choices that read as keys (change kinds, roles, statuses with an underscore)."""
    keys = set()
    for name in PRODUCT_CHOICES:
        for _name, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, models.Choices) and cls.__module__ == name:
                keys.update(str(v) for v in cls.values if isinstance(v, str) and "_" in v.strip("_"))
    return keys


def event_type_keys() -> set[str]:
    return {event_type.key for event_type in all_types()}


EXTRA_KEYS: set[str] = set()

# Forms of the core team where a file's columns (examples, test cases, master data, a file drop's columns)
# must carry the fields' technical names: there, and only there, a technical name may stand beside the
# field's label, marked <code class="technical">. Everywhere else such a mark is a finding like any key.
TECHNICAL_ROUTES = {"automations:training", "automations:test-case-list", "work:master-data",
                    "automations:catalogue-change"}


def allowed(finding: crawl.Finding) -> bool:
    return False


@pytest.fixture
def quickstart(demo_seeded):
    """The quick start's demo as `quickstart` seeds it (demo.seed(), which writes in the portal's language
    whatever the caller's), the demo's classifiers trained and evaluated for real (the evaluation gates the
    production label, so smaller training settings would not get the demo live)."""
    return demo_seeded


def test_every_page_each_demo_user_reaches_speaks_german(quickstart, client):
    started = time.monotonic()
    keys = crawl.key_pattern(crawl.model_field_keys() | crawl.schema_keys(UseCase.objects.all())
                             | choice_keys() | event_type_keys() | EXTRA_KEYS)
    phrases = crawl.untranslated_phrases()
    pages, found, refused, role_sets = [], [], [], set()
    for username, roles in demo.DEMO_USERS:
        client.logout()
        access.login(client, quickstart.users[username], quickstart.tenant, language="de")
        # Two objects of a route per user; a second user with the same roles (automation_lead_2, clerk_2)
        # sees the same pages with other objects: one of each route is enough there.
        per_route = 1 if tuple(roles) in role_sets else 2
        role_sets.add(tuple(roles))
        result = crawl.crawl(client, user=username, per_route=per_route, technical_routes=TECHNICAL_ROUTES)
        pages += result.pages
        refused += [f"{username} {url} -> {status} (link on {page})" for url, status, page in result.refused()]
        found += crawl.findings(result.pages, keys=keys, english=ENGLISH, phrases=phrases,
                                user_names=quickstart.users, allowed=allowed)
    print(f"crawled {len(pages)} pages as {len(demo.DEMO_USERS)} users in {time.monotonic() - started:.1f} s")
    assert len({page.route for page in pages}) > 40  # the crawl reached the portal's areas, not the home page alone
    # A link the user is shown must lead somewhere they may go: a page that refuses them (403) or does not
    # exist for them (404) should not have been offered (docs/roles.md says what each role reads).
    report = [f"{len(found)} findings on {len({(f.user, f.url) for f in found})} pages:", *map(str, found[:200]),
              f"{len(refused)} links lead to pages that refuse their user:", *refused]
    assert not found and not refused, "\n".join(report)
