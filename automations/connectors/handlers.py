"""The connectors' handlers of execution's announcements (portal.dispatch), connected in
AutomationsConfig.ready: an item that became final gets its outbox rows in the same transaction."""
from automations.connectors.services.deliveries import deliveries_create
from portal import dispatch


def on_work_item_finalised(*, item, delivery_connectors_named: bool = True) -> list:
    """`delivery_connectors_named` False: the emitter read with its lock that the use case names none."""
    if not delivery_connectors_named:
        return []
    return deliveries_create(item=item)


def connect() -> None:
    dispatch.connect("work_item.finalised", on_work_item_finalised)
