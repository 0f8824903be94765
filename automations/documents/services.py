"""Reading an item's files (in the worker, outside any transaction) and storing what was read."""
from django.db import transaction

from audit.actors import SYSTEM
from audit.services.events import audit_event_record
from automations.documents.models import DocumentPage, ItemDocument
from automations.documents.reading import MAX_OCR_PAGES, ReadDocument, read_file


def item_files_read(*, files) -> list[ReadDocument]:
    """Every file of an item read to text; OCR'd pages count against one budget per item. `files` are
    the engine input's files (name, content type, path). Slow (OCR): never inside a transaction or a
    web request."""
    budget = [MAX_OCR_PAGES]
    out = []
    for input_file in files:
        out.append(read_file(input_file.name, input_file.read(), input_file.content_type, ocr_budget=budget))
    return out


def _words(doc: ReadDocument, page: int) -> list:
    if doc.layer is None:
        return []
    return [[w.text, round(w.x0, 1), round(w.top, 1), round(w.x1, 1), round(w.bottom, 1),
             None if w.conf is None else round(w.conf, 1)] for w in doc.layer.words(page)]


def item_documents_store(*, item, documents: list[ReadDocument], item_files: list) -> list[ItemDocument]:
    """Replace what an earlier run stored of the item's documents (a retry reads again) with `documents`;
    `item_files` are the WorkItemFile rows in the order of `documents`."""
    stored: list[ItemDocument] = []
    with transaction.atomic():
        ItemDocument.objects.for_tenant(item.tenant).filter(item=item).delete()
        position = 0
        for doc, item_file in zip(documents, item_files):
            queue: list[tuple[ReadDocument, ItemDocument | None]] = [(doc, None)]
            while queue:
                current, parent = queue.pop(0)
                mail = {}
                if current.mail is not None:
                    mail = {"subject": current.mail.subject, "from": current.mail.sender,
                            "from_name": current.mail.sender_name, "to": current.mail.to, "date": current.mail.date}
                row = ItemDocument.objects.create(
                    tenant=item.tenant, item=item, file=item_file, parent=parent, position=position,
                    name=current.name[:255], kind=current.kind, text=current.text, mail=mail,
                    reasons=list(current.reasons))
                position += 1
                DocumentPage.objects.bulk_create([
                    DocumentPage(tenant=item.tenant, document=row, number=p.number + 1, width=round(p.width, 1),
                                 height=round(p.height, 1), method=p.method, ocr_confidence=p.ocr_confidence,
                                 words=_words(current, p.number))
                    for p in current.pages])
                stored.append(row)
                queue.extend((child, row) for child in current.attachments)
        audit_event_record(actor=SYSTEM, tenant=item.tenant, event_type="work_item.read", obj=item,
                           details={"documents": len(stored),
                                    "pages": sum(len(d.pages) for doc in documents for d in doc.walk()),
                                    "ocr_pages": sum(d.ocr_pages for doc in documents for d in doc.walk())})
    return stored
