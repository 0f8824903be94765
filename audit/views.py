"""The DSB area (/audit/): thin views; reads through audit.selectors.events, writes through the services. Only the
data protection officer and auditors get in; whatever shows a person's identity records an access event."""
import json
from dataclasses import replace
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from audit import signing
from audit.actors import actor_from_request
from audit.choices import RequestKind, Stream
from audit.forms import (
    ErasureConfirmForm,
    EventFilterForm,
    ExtensionForm,
    IdentityCheckForm,
    LegalHoldForm,
    LegalHoldLiftForm,
    RefusalForm,
    RevealForm,
    SubjectForm,
)
from audit.selectors import events as selectors
from audit.selectors.legal_holds import legal_hold_get, legal_hold_list
from audit.selectors.processing_records import processing_records, processing_records_pdf
from audit.selectors.pseudonyms import PSEUDONYM_PATTERN, reveal
from audit.selectors.subjects import AmbiguousSubject, SubjectNotFound, subject_identify
from audit.selectors.works_council import works_council_report
from audit.services import export
from audit.services.access import (
    data_subject_access_answer_pdf,
    data_subject_access_complete,
    data_subject_access_export,
    data_subject_access_request_open,
)
from audit.services.checkpoints import checkpoints_latest
from audit.services.erasure import ErasureRefused, data_subject_erase
from audit.services.events import access_event_record, audit_verification_start
from audit.services.legal_holds import legal_hold_lift, legal_hold_place
from audit.services.request_handling import (
    data_subject_request_extend,
    data_subject_request_refuse,
    data_subject_request_verify_identity,
)
from automations.registry.models.use_cases import UseCase
from automations.registry.selectors import use_case_list
from portal.files import PDF, harden
from portal.views import TenantPermissionRequiredMixin, call_service


class AuditAreaView(TenantPermissionRequiredMixin, View):
    """A page of the DSB area; `permission_required` from the user's roles in the active tenant."""

    permission_required = "audit.view_auditevent"


def _get_or_404(selector, **kwargs):
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def _received_at(day):
    """A request received on a given day counts from that day's start (local time)."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time(0, 0)))


# --- Overview ------------------------------------------------------------------------------------

class AuditHomeView(AuditAreaView):
    def get(self, request):
        tenant = request.tenant
        run = selectors.verification_run_latest(tenant=tenant)
        keys = {str(tenant.pk), f"{tenant.pk}/access"}
        checkpoints = sorted((c for chain, c in checkpoints_latest().items() if chain in keys), key=lambda c: c.chain)
        return render(request, "audit/home.html", {
            "run": run,
            "results": selectors.verification_results_for(run=run, tenant=tenant) if run else [],
            "checkpoints": checkpoints,
            "public_key": signing.public_key_b64(),
            "public_key_pem": signing.public_key_pem(),
            "open_requests": selectors.requests_open_by_due_date(tenant=tenant),
            "now": timezone.now(),
        })


class VerificationStartView(AuditAreaView):
    """Verify this tenant's chains now, in a worker (it reads every event); the overview shows the result."""

    permission_required = "audit.add_verificationrun"
    http_method_names = ["post"]

    def post(self, request):
        return call_service(request, lambda: audit_verification_start(actor=request.user, tenant=request.tenant),
                            success=_("The verification has started; its result appears here when it is done."),
                            to=reverse("audit:home"))


# --- Events --------------------------------------------------------------------------------------

def event_filter_from(request) -> tuple[EventFilterForm, object, list[str] | None]:
    """The search form, its filter and, when a data subject was searched, their pseudonyms (an access
    event records the search: it is a look at a person's data)."""
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        return form, None, None
    filters = form.event_filter()
    identifier = form.cleaned_data.get("subject", "").strip()
    if not identifier:
        return form, filters, None
    pseudonyms = selectors.subject_pseudonyms(tenant=request.tenant, identifier=identifier)
    access_event_record(actor=actor_from_request(request), tenant=request.tenant, purpose="audit_search",
                        event_type="data_subject.searched", subject_pseudonym=pseudonyms[0] if pseudonyms else "")
    # A person without a pseudonym appears in no event: "-" matches none.
    filters = replace(filters, subjects=tuple(pseudonyms) or ("-",))
    return form, filters, pseudonyms


class EventListView(AuditAreaView):
    def get(self, request):
        form, filters, pseudonyms = event_filter_from(request)
        if filters is not None and filters.stream == Stream.ACCESS and not request.user.has_perm(
                "audit.view_accessevent"):
            raise PermissionDenied
        page = None
        if filters is not None:
            try:
                page = selectors.event_search(tenant=request.tenant, filters=filters, cursor=request.GET.get("after"))
            except selectors.BadCursor as error:
                messages.error(request, str(error))
            else:
                selectors.event_page_with_actors(page)
        params = request.GET.copy()
        params.pop("after", None)
        return render(request, "audit/event_list.html", {
            "form": form, "filters": filters, "page": page, "pseudonyms": pseudonyms,
            "stream": filters.stream if filters else Stream.AUDIT,
            "query": params.urlencode(), "today": timezone.localdate(),
            "event_types": selectors.event_type_list(tenant=request.tenant,
                                                     stream=filters.stream if filters else Stream.AUDIT),
            "yesterday": timezone.localdate() - timedelta(days=1),
        })


class EventExportView(AuditAreaView):
    """The search's events as CSV or JSON Lines, streamed, with what an offline check needs
    (audit.services.export, docs/audit-verification.md)."""

    def get(self, request):
        fmt = request.GET.get("format", "jsonl")
        if fmt not in export.FORMATS:
            raise Http404
        _form, filters, _pseudonyms = event_filter_from(request)
        if filters is None:
            messages.error(request, _("The filter is not valid."))
            return HttpResponseRedirect(reverse("audit:event-list"))
        if filters.stream == Stream.ACCESS and not request.user.has_perm("audit.view_accessevent"):
            raise PermissionDenied
        try:
            body = export.audit_export_start(actor=actor_from_request(request), tenant=request.tenant,
                                             filters=filters, fmt=fmt)
        except signing.SigningKeyMissing:
            messages.error(request, _("No signing key is configured (AUDIT_SIGNING_KEY): exports cannot be signed."))
            return HttpResponseRedirect(reverse("audit:event-list"))
        response = StreamingHttpResponse(body, content_type=export.content_type(fmt))
        name = export.export_filename(tenant=request.tenant, stream=filters.stream, fmt=fmt)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response


def object_url(event, tenant) -> str | None:
    """A link to the record an event is about, where the portal has a page for it."""
    try:
        if event.object_type == "automations.usecase":
            key = UseCase.objects.for_tenant(tenant).filter(pk=event.object_id).values_list("key", flat=True).first()
            return reverse("automations:use-case-detail", args=[key]) if key else None
        if event.object_type == "automations.changerequest":
            return reverse("automations:change-request-detail", args=[int(event.object_id)])
        if event.object_type == "audit.datasubjectrequest":
            return reverse("audit:request-detail", args=[int(event.object_id)])
        if event.object_type == "reviews.reviewtask":
            return reverse("reviews:task-detail", args=[int(event.object_id)])
    except (NoReverseMatch, ValueError):
        return None
    return None


class EventDetailView(AuditAreaView):
    def get(self, request, stream: str, sequence: int):
        if stream not in Stream.values:
            raise Http404
        if stream == Stream.ACCESS and not request.user.has_perm("audit.view_accessevent"):
            raise PermissionDenied
        event = _get_or_404(selectors.event_get, tenant=request.tenant, stream=stream, sequence=sequence)
        details = json.dumps(event.details, indent=2, ensure_ascii=False, sort_keys=True)
        return render(request, "audit/event_detail.html", {
            "event": event, "stream": stream, "details": details, "object_url": object_url(event, request.tenant),
            "pseudonyms": sorted(set(PSEUDONYM_PATTERN.findall(details))),
            "reveal_form": RevealForm(),
        })


class PseudonymRevealView(AuditAreaView):
    """Show the DSB who is behind a pseudonym, for a stated purpose; recorded as an access event. Answered
    directly (never redirected), so the identifier stands in no URL and no history."""

    permission_required = "audit.reveal_pseudonym"
    http_method_names = ["post"]

    def post(self, request):
        form = RevealForm(request.POST)
        if not form.is_valid():
            return render(request, "audit/reveal.html", {"form": form}, status=400)
        pseudonym = _get_or_404(selectors.pseudonym_get, tenant=request.tenant,
                                pseudonym=form.cleaned_data["pseudonym"])
        identifier = reveal(pseudonym)
        if identifier is not None:
            access_event_record(actor=actor_from_request(request), tenant=request.tenant,
                                event_type="pseudonym.revealed", purpose=form.purpose_text(),
                                subject_pseudonym=pseudonym.pseudonym)
        response = render(request, "audit/reveal.html", {"pseudonym": pseudonym, "identifier": identifier})
        response["Cache-Control"] = "no-store"
        return response


# --- Data subject requests -----------------------------------------------------------------------

class RequestListView(AuditAreaView):
    permission_required = "audit.view_datasubjectrequest"

    def get(self, request):
        return render(request, "audit/request_list.html", {
            "requests": selectors.request_list(tenant=request.tenant)[:200], "now": timezone.now(),
        })


class RequestDetailView(AuditAreaView):
    permission_required = "audit.view_datasubjectrequest"

    def get(self, request, pk: int):
        subject_request = _get_or_404(selectors.request_get, tenant=request.tenant, pk=pk)
        return render(request, "audit/request_detail.html", {
            "subject_request": subject_request, "now": timezone.now(),
            "identity_form": IdentityCheckForm(),
            "extension_form": ExtensionForm(), "refusal_form": RefusalForm()})


class RequestActionView(AuditAreaView):
    """The DSB's steps on a request, each an explicit POST: record the identity check, extend the deadline,
    refuse, or (an access request) complete it once the answer went out."""

    permission_required = "audit.add_datasubjectrequest"
    http_method_names = ["post"]
    FORMS: dict[str, type[forms.Form] | None] = {"verify-identity": IdentityCheckForm, "extend": ExtensionForm,
                                                 "refuse": RefusalForm, "complete": None}

    def post(self, request, pk: int, action: str):
        if action not in self.FORMS:
            raise Http404
        subject_request = _get_or_404(selectors.request_get, tenant=request.tenant, pk=pk)
        if action == "complete" and subject_request.kind != RequestKind.ACCESS:
            raise Http404
        back = reverse("audit:request-detail", args=[pk])
        form_class = self.FORMS[action]
        form = form_class(request.POST) if form_class is not None else None
        if form is not None and not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return HttpResponseRedirect(back)
        actor, data = actor_from_request(request), form.cleaned_data if form is not None else {}
        if action == "verify-identity":
            return call_service(request, lambda: data_subject_request_verify_identity(
                actor=actor, request=subject_request, check=data["check"], note=data["note"]),
                success=_("The identity check is recorded."), to=back)
        if action == "extend":
            return call_service(request, lambda: data_subject_request_extend(
                actor=actor, request=subject_request, months=data["months"], reason=data["reason"]),
                success=lambda done: _("The deadline is now %(date)s. Tell the person, with the reason.")
                % {"date": timezone.localtime(done.due_at).strftime("%d.%m.%Y")}, to=back)
        if action == "refuse":
            return call_service(request, lambda: data_subject_request_refuse(
                actor=actor, request=subject_request, reason=data["reason"]),
                success=_("The request is refused."), to=back)
        return call_service(request, lambda: data_subject_access_complete(actor=actor, request=subject_request),
                            success=_("The request is completed."), to=back)


def _subject_error(form, error) -> None:
    if isinstance(error, AmbiguousSubject):
        form.add_error("identifier", str(error))
        form.candidates = error.candidates
    else:
        form.add_error("identifier", str(error))


class AccessRequestCreateView(AuditAreaView):
    permission_required = "audit.add_datasubjectrequest"

    def get(self, request):
        return render(request, "audit/access_request_form.html", {"form": SubjectForm()})

    def post(self, request):
        form = SubjectForm(request.POST)
        if not form.is_valid():
            return render(request, "audit/access_request_form.html", {"form": form}, status=400)
        data = form.cleaned_data
        try:
            subject_request = data_subject_access_request_open(
                actor=actor_from_request(request), tenant=request.tenant, identifier=data["identifier"],
                kind=data["kind"] or None, received_at=_received_at(data.get("received_on")),
                channel=data.get("channel", ""), reason=data.get("reason", ""))
        except (AmbiguousSubject, SubjectNotFound) as error:
            _subject_error(form, error)
            return render(request, "audit/access_request_form.html", {"form": form}, status=400)
        messages.success(request, _("The access request was recorded; it is due on %(date)s.")
                         % {"date": timezone.localtime(subject_request.due_at).strftime("%d.%m.%Y")})
        return HttpResponseRedirect(reverse("audit:request-detail", args=[subject_request.pk]))


class AccessRequestExportView(AuditAreaView):
    """The answer for the person, as JSON or as a page to print; reading it changes nothing (completing the
    request is a POST of its own)."""

    permission_required = "audit.add_datasubjectrequest"

    def get(self, request, pk: int, fmt: str):
        if fmt not in ("json", "html", "pdf"):
            raise Http404
        subject_request = _get_or_404(selectors.request_get, tenant=request.tenant, pk=pk)
        if subject_request.kind != RequestKind.ACCESS:
            raise Http404
        back = reverse("audit:request-detail", args=[pk])
        if fmt == "pdf":
            return call_service(request, lambda: data_subject_access_answer_pdf(
                actor=actor_from_request(request), request=subject_request),
                done=lambda pdf: self._pdf(pdf, pk), refused_to=back)
        return call_service(request, lambda: data_subject_access_export(
            actor=actor_from_request(request), request=subject_request),
            done=lambda export: self._answer(request, export, pk, fmt), refused_to=back)

    @staticmethod
    def _pdf(pdf: bytes, pk: int):
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="auskunft-{pk}.pdf"'
        response["Cache-Control"] = "no-store"
        return harden(response, PDF)

    @staticmethod
    def _answer(request, export: dict, pk: int, fmt: str) -> HttpResponse:
        response: HttpResponse
        if fmt == "json":
            response = JsonResponse(export, json_dumps_params={"ensure_ascii": False, "indent": 2})
            response["Content-Disposition"] = f'attachment; filename="auskunft-{pk}.json"'
        else:
            response = render(request, "audit/access_export.html", {"export": export})
        response["Cache-Control"] = "no-store"
        return response


class ErasureRequestView(AuditAreaView):
    """Erasure in two steps: the DSB enters the identifier and sees what would be erased (a dry run), then
    confirms. Answered directly, never redirected with the identifier."""

    permission_required = "audit.erase_subject"

    def get(self, request):
        return render(request, "audit/erasure.html", {"form": SubjectForm()})

    def post(self, request):
        confirming = "confirm" in request.POST
        form = (ErasureConfirmForm if confirming else SubjectForm)(request.POST)
        if not form.is_valid():
            return render(request, "audit/erasure.html", {"form": form}, status=400)
        data = form.cleaned_data
        try:
            report = data_subject_erase(actor=actor_from_request(request), tenant=request.tenant,
                                        identifier=data["identifier"], kind=data["kind"] or None,
                                        dry_run=not confirming, received_at=_received_at(data.get("received_on")),
                                        reason=data.get("reason", ""), channel=data.get("channel", ""))
        except (AmbiguousSubject, SubjectNotFound) as error:
            _subject_error(form, error)
            return render(request, "audit/erasure.html", {"form": form}, status=400)
        except ErasureRefused as error:
            raise PermissionDenied(str(error)) from None
        if confirming:
            messages.success(request, _("The person's data was erased."))
            response = render(request, "audit/erasure_done.html", {"report": report})
        else:
            response = render(request, "audit/erasure.html", {
                "form": form, "report": report,
                "confirm_form": ErasureConfirmForm(initial={**data, "confirm": False}),
            })
        response["Cache-Control"] = "no-store"
        return response


class RestrictedItemListView(AuditAreaView):
    """Items whose processing is restricted (Art. 18 GDPR): only the DSB sees them; opening the list is
    a look at personal data."""

    permission_required = "audit.erase_subject"

    def get(self, request):
        items = list(selectors.restricted_item_list(tenant=request.tenant)[:200])
        if items:
            access_event_record(actor=actor_from_request(request), tenant=request.tenant,
                                purpose="restricted_items", details={"items": len(items)})
        return render(request, "audit/restricted_items.html", {"items": items})


# --- Legal holds ---------------------------------------------------------------------------------

def _hold_person(tenant, scope: str, identifier: str, kind: str) -> dict:
    """The kind of the identifier and every identifier the person is known by (master data), for a hold on a
    person (AmbiguousSubject for a name of several people)."""
    if scope != "person" or not identifier.strip():
        return {"identifier_kind": kind}
    subject = subject_identify(tenant=tenant, identifier=identifier, kind=kind or None)
    return {"identifier_kind": subject.kind, "identifiers": [(i.kind, i.value) for i in subject.identifiers]}


class LegalHoldListView(AuditAreaView):
    """The tenant's legal holds, active first; the DSB places one here and lifts it with a reason."""

    permission_required = "audit.view_legalhold"

    def _render(self, request, form, status=200):
        holds = list(legal_hold_list(tenant=request.tenant)[:500])
        return render(request, "audit/legal_holds.html", {
            "form": form, "active": [h for h in holds if h.is_active], "lifted": [h for h in holds if not h.is_active],
            "lift_form": LegalHoldLiftForm()}, status=status)

    def get(self, request):
        return self._render(request, LegalHoldForm(use_cases=use_case_list(tenant=request.tenant)))

    def post(self, request):
        if not request.user.has_perm("audit.add_legalhold"):
            raise PermissionDenied
        form = LegalHoldForm(request.POST, use_cases=use_case_list(tenant=request.tenant))
        if not form.is_valid():
            return self._render(request, form, status=400)
        data = form.cleaned_data
        try:
            person = _hold_person(request.tenant, data["scope"], data["identifier"], data["identifier_kind"])
        except AmbiguousSubject as error:
            form.add_error("identifier", str(error))
            return self._render(request, form, status=400)
        return call_service(
            request, lambda: legal_hold_place(
                actor=actor_from_request(request), tenant=request.tenant, scope=data["scope"], reason=data["reason"],
                reference=data["reference"], item_id=data["item_id"].strip(), identifier=data["identifier"], **person,
                use_case_key=data["use_case_key"], date_from=data["date_from"], date_until=data["date_until"]),
            form=form, invalid=lambda status: self._render(request, form, status=status),
            success=lambda hold: _("The legal hold %(reference)s is in place.") % {"reference": hold.reference},
            to=reverse("audit:legal-holds"))


class LegalHoldLiftView(AuditAreaView):
    permission_required = "audit.change_legalhold"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        hold = _get_or_404(legal_hold_get, tenant=request.tenant, pk=pk)
        form = LegalHoldLiftForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the reason for lifting the hold."))
            return HttpResponseRedirect(reverse("audit:legal-holds"))
        return call_service(
            request, lambda: legal_hold_lift(actor=actor_from_request(request), hold=hold,
                                             reason=form.cleaned_data["lift_reason"]),
            success=_("The legal hold %(reference)s was lifted.") % {"reference": hold.reference},
            to=reverse("audit:legal-holds"))


# --- Records of processing and the works council's view ------------------------------------------

class ProcessingRecordsView(AuditAreaView):
    permission_required = "audit.view_processing_records"

    def get(self, request):
        return render(request, "audit/processing_records.html",
                      {"document": processing_records(tenant=request.tenant)})


class ProcessingRecordsPdfView(AuditAreaView):
    permission_required = "audit.view_processing_records"

    def get(self, request):
        pdf = processing_records_pdf(processing_records(tenant=request.tenant))
        response = HttpResponse(pdf, content_type="application/pdf")
        name = f"verarbeitungsverzeichnis-{request.tenant.slug}-{timezone.localdate():%Y-%m-%d}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return harden(response, PDF)


class WorksCouncilView(AuditAreaView):
    permission_required = "audit.view_employee_measures"

    def get(self, request):
        return render(request, "audit/works_council.html", {"report": works_council_report(tenant=request.tenant)})
