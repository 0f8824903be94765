"""The quick start's connectors: the inbox folders of every demo use case, Demo-ERP (the demo receiver inside
the portal, wired by default: every demo use case delivers its results there, on the address quickstart
serves), or instead a webhook delivery connector to a receiver of one's own (`quickstart --webhook-url URL
--webhook-secret whsec_…`), each added and named by the demo use cases through change requests that the
demo users approve, as they would approve them."""
import base64
import os
from urllib.parse import unquote, urlsplit

from django.db import transaction

from automations.choices import ChangeKind, UseCaseStatus
from automations.connectors.services.credentials import connector_secret, connector_secret_set
from automations.connectors.services.folders import inbox_folders_ensure
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.use_cases import UseCase
from automations.registry.services import changes
from demo.reviews import DEMO_USE_CASES

WEBHOOK_KEY = "quickstart-webhook"
DEMO_ERP_KEY = "demo-erp"


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def _approve(cr, users) -> None:
    for role in list(cr.required_roles):
        approver = users[role]
        if approver.pk == cr.author_id:
            approver = users["automation_lead_2"]
        cr = changes.change_request_approve(actor=approver, change_request=cr, role=role, comment="Demo-Freigabe")


def _live_use_cases(tenant) -> list[UseCase]:
    """The live demo use cases whose results go to an ERP (not the applications of the high-risk demo)."""
    return list(UseCase.objects.for_tenant(tenant).filter(
        key__in=DEMO_USE_CASES, status__in=(UseCaseStatus.PILOT, UseCaseStatus.PRODUCTION)).order_by("key"))


def seed_inboxes(tenant) -> list:
    return inbox_folders_ensure(tenant=tenant)


def seed_webhook(tenant, users, *, key: str, name: str, url: str, secret: str | None) -> CatalogueEntry:
    """A webhook delivery connector to `url`, approved for the personal data categories of the demo use
    cases, named by every one of them; its secret (re)set by IT (`secret=None`: the stored one is kept, or a
    new one made when there is none). A later run with another URL moves it."""
    use_cases = _live_use_cases(tenant)
    categories = sorted(set().union(*(uc.personal_data_categories() for uc in use_cases)))
    with transaction.atomic():
        entry = CatalogueEntry.objects.for_tenant(tenant).filter(key=key).first()
        fields = {"kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": name,
                  "endpoint": url, "location": "Demo", "approved_categories": categories, "is_active": True}
        if entry is None or any(getattr(entry, f) != v for f, v in fields.items()):
            cr = changes.change_request_create(
                actor=users["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                title=f"Konnektor {name}", description="Schnellstart: Ergebnisse der Demo-Anwendungsfälle ans ERP.",
                payload={"key": key, "fields": fields})
            _approve(cr, users)
            entry = CatalogueEntry.objects.for_tenant(tenant).get(key=key)
        if secret is not None or connector_secret(entry=entry) is None:
            connector_secret_set(actor=users["it_operator"], entry=entry, secret=secret or new_webhook_secret())
        for use_case in use_cases:
            named = sorted(use_case.catalogue_entries.values_list("key", flat=True))
            if key in named:
                continue
            cr = changes.change_request_create(
                actor=users["automation_lead"], tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                title=f"{use_case.title}: Zustellung an {name}", description="Schnellstart: Ergebnisse ans ERP.",
                payload={"changes": {"catalogue_entries": named + [key]}})
            _approve(cr, users)
    return entry


DEMO_ERP_PATH = "/demo/erp/hooks/"


def demo_erp_url(host: str, port: int) -> str:
    """Where Demo-ERP receives while quickstart serves on host:port (a wildcard address is reached on loopback)."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "", "localhost") else host
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{DEMO_ERP_PATH}"


def seed_demo_erp(tenant, users, *, url: str) -> CatalogueEntry:
    """Demo-ERP as every demo use case's delivery target: results arrive signed on its page (/demo/erp/). Its
    signing secret is made once and kept; a run serving on another port moves it there."""
    return seed_webhook(tenant, users, key=DEMO_ERP_KEY, name="Demo-ERP", url=url, secret=None)


def webhook_wired(tenant) -> bool:
    """Does a demo use case deliver to the receiver `--webhook-url` named (in this run or an earlier one)?"""
    return UseCase.objects.for_tenant(tenant).filter(catalogue_entries__key=WEBHOOK_KEY).exists()


def unwire(tenant, users, *, key: str) -> None:
    """The demo use cases stop naming the connector `key` (documentation changes, approved): the results go to
    one receiver, not to Demo-ERP and the one of `--webhook-url` both."""
    with transaction.atomic():
        for use_case in UseCase.objects.for_tenant(tenant).filter(catalogue_entries__key=key).order_by("key"):
            named = sorted(use_case.catalogue_entries.values_list("key", flat=True))
            cr = changes.change_request_create(
                actor=users["automation_lead"], tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                title=f"{use_case.title}: keine Zustellung mehr an {key}",
                description="Schnellstart: Ergebnisse an einen Empfänger.",
                payload={"changes": {"catalogue_entries": [k for k in named if k != key]}})
            _approve(cr, users)


IMAP_KEY = "quickstart-imap"
IMAP_USE_CASE = "eingangsrechnungen"


def seed_imap(tenant, users, *, url: str) -> CatalogueEntry:
    """`--imap-url imap://USER:PASSWORD@HOST:PORT/MAILBOX`: an IMAP intake connector for the invoices, each
    PDF attachment an item, processed mail moved to Verarbeitet. The password becomes the connector's
    encrypted credential; the target keeps the rest. Plain IMAP only on loopback (outside production)."""
    target = urlsplit(url)
    if target.scheme not in ("imap", "imaps") or not target.hostname or not target.username or not target.password:
        raise ValueError("--imap-url is imap://USER:PASSWORD@HOST:PORT/MAILBOX")
    loopback = target.hostname in ("127.0.0.1", "::1", "localhost")
    if target.scheme == "imap" and not loopback:
        settings = {"starttls": True}
    else:
        settings = {"starttls": False}
    netloc = f"{target.username}@{target.hostname}" + (f":{target.port}" if target.port else "")
    endpoint = f"{target.scheme}://{netloc}{target.path or '/INBOX'}"
    use_case = UseCase.objects.for_tenant(tenant).get(key=IMAP_USE_CASE)
    fields = {"kind": "connector", "connector_type": "imap", "direction": "intake", "name": "Rechnungspostfach",
              "endpoint": endpoint, "location": "Demo", "is_active": True,
              "settings": {**settings, "per_attachment": True, "processed_folder": "Verarbeitet",
                           "failed_folder": "Fehlgeschlagen"}}
    with transaction.atomic():
        entry = CatalogueEntry.objects.for_tenant(tenant).filter(key=IMAP_KEY).first()
        if entry is None or any(getattr(entry, f) != v for f, v in fields.items()):
            cr = changes.change_request_create(
                actor=users["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                title="Konnektor Rechnungspostfach", description="Schnellstart: Rechnungen kommen per E-Mail.",
                payload={"key": IMAP_KEY, "fields": fields})
            _approve(cr, users)
            entry = CatalogueEntry.objects.for_tenant(tenant).get(key=IMAP_KEY)
        connector_secret_set(actor=users["it_operator"], entry=entry, secret=unquote(target.password))
        named = sorted(use_case.catalogue_entries.values_list("key", flat=True))
        if IMAP_KEY not in named:
            cr = changes.change_request_create(
                actor=users["automation_lead"], tenant=tenant, use_case=use_case, kind=ChangeKind.DOCUMENTATION,
                title=f"{use_case.title}: Rechnungspostfach", description="Schnellstart: Rechnungen per E-Mail.",
                payload={"changes": {"catalogue_entries": named + [IMAP_KEY]}})
            _approve(cr, users)
    return entry
