import pytest

from automations.choices import ChangeKind
from automations.connectors.services.credentials import connector_secret_set
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.services import changes
from tests.automations.connectors.receiver import Receiver, new_secret
from tests.automations.factories import approve_all


@pytest.fixture
def receiver():
    server = Receiver(new_secret())
    yield server
    server.stop()


def approve_connector(tenant, team, key, fields) -> CatalogueEntry:
    """A connector added to the catalogue as the ISB approves it: a change request, approved."""
    cr = changes.change_request_create(actor=team["it_operator"], tenant=tenant, kind=ChangeKind.CATALOGUE,
                                       title=f"Connector {key}", description="ERP integration",
                                       payload={"key": key, "fields": fields})
    approve_all(cr, team)
    return CatalogueEntry.objects.get(tenant=tenant, key=key)


def name_connectors(use_case, team, keys) -> None:
    """The use case names its connectors through an approved documentation change."""
    current = sorted(use_case.catalogue_entries.values_list("key", flat=True))
    cr = changes.change_request_create(actor=team["automation_lead"], tenant=use_case.tenant, use_case=use_case,
                                       kind=ChangeKind.DOCUMENTATION, title="connectors", description="deliver",
                                       payload={"changes": {"catalogue_entries": sorted(set(current) | set(keys))}})
    approve_all(cr, team)


def webhook_connector(tenant, team, use_case, receiver, key="erp", categories=(), **settings):
    entry = approve_connector(tenant, team, key, {
        "kind": "connector", "connector_type": "webhook", "direction": "delivery", "name": f"ERP {key}",
        "endpoint": receiver.url, "approved_categories": list(categories),
        "settings": {"backoff": 0.01, "max_attempts": 3, "timeout": 5, **settings}})
    connector_secret_set(actor=team["it_operator"], entry=entry, secret=receiver.secret)
    name_connectors(use_case, team, [key])
    return entry
