from automations.documents.models import ItemDocument


def item_document_list(*, item) -> list[ItemDocument]:
    """An item's read documents in reading order, with their pages (the item was checked by the caller)."""
    return list(ItemDocument.objects.for_tenant(item.tenant).filter(item=item).prefetch_related("pages")
                .order_by("position"))


def item_document_get(*, item, pk: int) -> ItemDocument:
    """One read document of the item (the item was checked by the caller); another item's raises
    DoesNotExist."""
    return ItemDocument.objects.for_tenant(item.tenant).get(item=item, pk=pk)


def item_document_path(*, document: ItemDocument) -> list[int]:
    """Where an attachment sits in the mail its file is: its index among its parent's attachments, from
    the outermost mail down (empty for the file itself)."""
    path: list[int] = []
    current = document
    while current.parent_id is not None:
        siblings = list(ItemDocument.objects.filter(tenant_id=current.tenant_id, parent_id=current.parent_id)
                        .order_by("position").values_list("pk", flat=True))
        path.insert(0, siblings.index(current.pk))
        current = ItemDocument.objects.get(tenant_id=current.tenant_id, pk=current.parent_id)
    return path
