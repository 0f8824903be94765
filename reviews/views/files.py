"""A task's documents, served from MEDIA_ROOT through a permission-checked view (there is no public URL
for uploaded files). Opening a document with personal data is recorded on the access chain; the page
images of a task page carry a signed token because the task page recorded that view already."""
from django.http import Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.clickjacking import xframe_options_sameorigin

from automations.documents.reading import attachment_data
from automations.documents.selectors import item_document_get, item_document_path
from automations.execution.services.intake import ensure_may_read
from portal.files import PNG, harden, page_token_valid, stored_file_response
from reviews import selectors, services
from reviews.views.base import ReviewView, get_or_404
from reviews.views.documents import render_page, render_pdf_page

PERMISSIONS = ("reviews.view_reviewtask", "automations.view_workitem")


def _load(request, pk: int, file_pk: int):
    task = get_or_404(selectors.review_task_get, tenant=request.tenant, user=request.user, pk=pk)
    item_file = get_or_404(selectors.review_task_file_get, task=task, pk=file_pk)
    ensure_may_read(request.user, task.item)
    if not page_token_valid(request.GET.get("v", ""), request.user, item_file):
        services.work_item_view_record(actor=request.user, item=task.item, file=item_file)
    return task, item_file


@method_decorator(xframe_options_sameorigin, name="dispatch")
class TaskFileView(ReviewView):
    """The original file: inline for PDFs and images (the browser's viewer), a download otherwise; the
    type is judged by the content (portal.files)."""

    permission_required = PERMISSIONS

    def get(self, request, pk: int, file_pk: int):
        _task, item_file = _load(request, pk, file_pk)
        try:
            return stored_file_response(item_file.file, filename=item_file.name)
        except OSError:
            raise Http404 from None


class TaskFilePageView(ReviewView):
    """Page `page` (1-based) of a PDF as a PNG image."""

    permission_required = PERMISSIONS

    def get(self, request, pk: int, file_pk: int, page: int):
        _task, item_file = _load(request, pk, file_pk)
        try:
            png = render_pdf_page(item_file, page - 1)
        except OSError:
            png = None
        if png is None:
            raise Http404
        return harden(HttpResponse(png, content_type=PNG), PNG)


class TaskDocumentPageView(ReviewView):
    """Page `page` (1-based) of a document the file brought, e.g. the invoice PDF attached to an e-mail,
    as a PNG image: the attachment is taken from the stored e-mail again, never kept as a copy."""

    permission_required = PERMISSIONS

    def get(self, request, pk: int, file_pk: int, doc_pk: int, page: int):
        task, item_file = _load(request, pk, file_pk)
        document = get_or_404(item_document_get, item=task.item, pk=doc_pk)
        if document.file_id != item_file.pk or document.parent_id is None:
            raise Http404
        try:
            with item_file.file.open("rb") as handle:
                found = attachment_data(handle.read(), item_document_path(document=document))
        except OSError:
            found = None
        png = render_page(found[1], page - 1) if found is not None else None
        if png is None:
            raise Http404
        return harden(HttpResponse(png, content_type=PNG), PNG)
