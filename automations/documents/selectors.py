from automations.documents.models import ItemDocument


def item_document_list(*, item) -> list[ItemDocument]:
    """An item's read documents in reading order, with their pages (the item was checked by the caller)."""
    return list(ItemDocument.objects.for_tenant(item.tenant).filter(item=item).prefetch_related("pages")
                .order_by("position"))
