"""The review page marks on the page image where a suggested value was read (the word boxes the document
stage kept), and only there."""
import re

import pytest
from django.urls import reverse

from automations.documents.reading import read_file
from automations.documents.services import item_documents_store
from tests.access import login
from tests.reviews.world import attach_file, small_pdf

pytestmark = pytest.mark.django_db


def test_the_iban_is_marked_where_the_page_prints_it(client, world):
    task = world["tasks"][0]
    data = small_pdf()
    stored = attach_file(task.item, data=data)
    item_documents_store(item=task.item, documents=[read_file(stored.name, data, "application/pdf")],
                         item_files=[stored])
    login(client, world["team"]["automation_lead"], world["tenant"])
    page = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    marks = re.findall(r'<span class="value-mark" data-mark-field="(\w+)"[^>]*style="left: ([\d.]+)%; '
                       r'top: ([\d.]+)%; width: ([\d.]+)%; height: ([\d.]+)%"', page)
    # The IBAN is printed in groups at x = 72 pt, 112 pt from the top of an A4 page (595 x 842 pt): its
    # boxes start after the word "IBAN" on that line and cover its six groups.
    iban = [tuple(map(float, m[1:])) for m in marks if m[0] == "iban"]
    assert len(iban) == 6
    assert all(9 < top < 15 for _left, top, _w, _h in iban)
    assert min(left for left, *_ in iban) > 100 * 72 / 595
    assert max(left + width for left, _t, width, _h in iban) < 60
    # The document class is not printed on the page: no mark for it.
    assert "document_class" not in {m[0] for m in marks}
    assert 'class="doc-page-wrap" data-page="1"' in page


def test_without_a_read_document_there_are_no_marks(client, world):
    task = world["tasks"][0]
    attach_file(task.item)
    login(client, world["team"]["automation_lead"], world["tenant"])
    page = client.get(reverse("reviews:task-detail", args=[task.pk])).content.decode()
    assert 'class="doc-page-wrap"' in page and "value-mark" not in page
