"""The DSB area over the API, under the same permissions as the pages: search and read audit and access
events, export them for offline verification, the chains' verification status, data subject requests
(access with its export; erasure), records of processing and the works council's view."""
from dataclasses import asdict, replace

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from audit import signing
from audit.actors import actor_from_request
from audit.api.serializers import (
    DataSubjectRequestActionInputSerializer,
    DataSubjectRequestCreateInputSerializer,
    DataSubjectRequestSerializer,
    ErasureReportSerializer,
    EventPageSerializer,
    EventSerializer,
    LegalHoldCreateInputSerializer,
    LegalHoldLiftInputSerializer,
    LegalHoldSerializer,
    VerificationSerializer,
)
from audit.choices import RequestKind, Stream
from audit.forms import EventFilterForm
from audit.models import DataSubjectRequest, LegalHold
from audit.selectors import events as selectors
from audit.selectors.legal_holds import legal_hold_get, legal_hold_list
from audit.selectors.processing_records import processing_records
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
from audit.services.erasure import data_subject_erase
from audit.services.events import access_event_record
from audit.services.legal_holds import legal_hold_lift, legal_hold_place
from audit.services.request_handling import (
    data_subject_request_extend,
    data_subject_request_refuse,
    data_subject_request_verify_identity,
)
from audit.tasks import verify_chains_task
from portal.api.pagination import (
    CURSOR_PARAM,
    KEYSET_PARAMETERS,
    announce_deprecations,
    invalid_cursor,
    keyset_cursor,
    keyset_page,
    page_serializer,
)
from portal.api.permissions import TenantMember, request_tenant
from portal.api.schema import problem
from portal.choices import TokenScope
from portal.problems import problem_response


def needs(perm: str):
    """A permission class: a member of the request's tenant holding `perm` there."""

    class HasPerm(permissions.BasePermission):
        def has_permission(self, request, view):
            return TenantMember().has_permission(request, view) and request.user.has_perm(perm)

    HasPerm.__name__ = f"Has_{perm.replace('.', '_')}"
    return HasPerm


FILTER_PARAMETERS = [
    OpenApiParameter("actor", str, description="user name"),
    OpenApiParameter("event_type", str, description="exact, or a prefix ending in a dot"),
    OpenApiParameter("use_case", str, description="use case key"),
    OpenApiParameter("object_type", str), OpenApiParameter("object_id", str),
    OpenApiParameter("since", str, description="ISO 8601, inclusive"),
    OpenApiParameter("until", str, description="ISO 8601, exclusive"),
    OpenApiParameter("subject", str, description="a data subject's identifier (recorded in the access log)"),
]


def _filters(request, stream: str):
    form = EventFilterForm({**request.query_params.dict(), "stream": stream})
    if not form.is_valid():
        raise ApiValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    filters = form.event_filter()
    identifier = form.cleaned_data.get("subject", "").strip()
    if identifier:
        tenant = request_tenant(request)
        pseudonyms = selectors.subject_pseudonyms(tenant=tenant, identifier=identifier)
        access_event_record(actor=actor_from_request(request), tenant=tenant, purpose="audit_search",
                            event_type="data_subject.searched", subject_pseudonym=pseudonyms[0] if pseudonyms else "")
        filters = replace(filters, subjects=tuple(pseudonyms) or ("-",))
    return filters


class _EventList(GenericAPIView):
    stream = Stream.AUDIT
    serializer_class = EventPageSerializer

    def get(self, request):
        """Events of the request's tenant, newest first, by keyset pages (no total count)."""
        filters = _filters(request, self.stream)
        cursor = keyset_cursor(request)
        try:
            page = selectors.event_search(tenant=request_tenant(request), filters=filters, cursor=cursor)
        except selectors.BadCursor:
            raise invalid_cursor() from None
        selectors.event_page_with_actors(page)
        return announce_deprecations(request, Response(keyset_page(
            request, EventSerializer(page.events, many=True).data, page.next_cursor if page.has_more else None)))


_LIST_PARAMETERS = [*FILTER_PARAMETERS, *KEYSET_PARAMETERS]


@extend_schema_view(get=extend_schema(operation_id="audit_events_list", parameters=_LIST_PARAMETERS))
class AuditEventListView(_EventList):
    permission_classes = [needs("audit.view_auditevent")]
    stream = Stream.AUDIT


@extend_schema_view(get=extend_schema(operation_id="access_events_list", parameters=_LIST_PARAMETERS))
class AccessEventListView(_EventList):
    permission_classes = [needs("audit.view_accessevent")]
    stream = Stream.ACCESS


class _EventDetail(GenericAPIView):
    stream = Stream.AUDIT
    serializer_class = EventSerializer

    def get(self, request, sequence: int):
        try:
            event = selectors.event_get(tenant=request_tenant(request), stream=self.stream, sequence=sequence)
        except ObjectDoesNotExist:
            raise NotFound from None
        return Response(EventSerializer(event).data)


@extend_schema_view(get=extend_schema(operation_id="audit_events_retrieve"))
class AuditEventDetailView(_EventDetail):
    permission_classes = [needs("audit.view_auditevent")]


@extend_schema_view(get=extend_schema(operation_id="access_events_retrieve"))
class AccessEventDetailView(_EventDetail):
    permission_classes = [needs("audit.view_accessevent")]
    stream = Stream.ACCESS


class _FormatIsTheExportsOwn(DefaultContentNegotiation):
    """`?format=csv` names the export's format here, not one of DRF's renderers."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class EventExportView(GenericAPIView):
    """A streamed export (CSV or JSON Lines) for offline verification (docs/audit-verification.md)."""

    permission_classes = [needs("audit.view_auditevent")]
    content_negotiation_class = _FormatIsTheExportsOwn

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=list(export.FORMATS)),
                               OpenApiParameter("stream", str, enum=list(Stream.values)), *FILTER_PARAMETERS],
                   responses={(200, "application/x-ndjson"): bytes, (200, "text/csv"): bytes})
    def get(self, request):
        fmt = request.query_params.get("format", "jsonl")
        stream = request.query_params.get("stream", Stream.AUDIT)
        wrong = {}
        if fmt not in export.FORMATS:
            wrong["format"] = [_("One of %(values)s.") % {"values": ", ".join(export.FORMATS)}]
        if stream not in Stream.values:
            wrong["stream"] = [_("One of %(values)s.") % {"values": ", ".join(Stream.values)}]
        if wrong:
            raise ApiValidationError(wrong, code="invalid_choice")
        if stream == Stream.ACCESS and not request.user.has_perm("audit.view_accessevent"):
            raise ApiPermissionDenied
        filters = _filters(request, stream)
        tenant = request_tenant(request)
        try:
            body = export.audit_export_start(actor=actor_from_request(request), tenant=tenant, filters=filters,
                                             fmt=fmt)
        except signing.SigningKeyMissing as error:
            return problem_response(503, code="signing_key_missing", detail=str(error))
        response = StreamingHttpResponse(body, content_type=export.content_type(fmt))
        name = export.export_filename(tenant=tenant, stream=stream, fmt=fmt)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class VerificationView(GenericAPIView):
    """GET: the last verification of the tenant's chains, the newest signed checkpoints and the public key.
    POST: verify now (in a worker)."""

    token_scopes = {"post": TokenScope.READ}  # starts a check that changes nothing

    serializer_class = VerificationSerializer

    def get_permissions(self):
        perm = "audit.add_verificationrun" if self.request.method == "POST" else "audit.view_verificationrun"
        return [needs(perm)()]

    def get(self, request):
        tenant = request_tenant(request)
        run = selectors.verification_run_latest(tenant=tenant)
        if run is not None:
            run.results = selectors.verification_results_for(run=run, tenant=tenant)
        keys = {str(tenant.pk), f"{tenant.pk}/access"}
        checkpoints = [c.statement for chain, c in sorted(checkpoints_latest().items()) if chain in keys]
        return Response(VerificationSerializer({"last_run": run, "public_key": signing.public_key_b64(),
                                                "checkpoints": checkpoints}).data)

    @extend_schema(request=None, responses={202: None})
    def post(self, request):
        user_id, tenant_id = request.user.pk, request_tenant(request).pk
        transaction.on_commit(lambda: verify_chains_task.delay(actor_id=user_id, tenant_id=tenant_id))
        return Response({"detail": "The verification has started."}, status=status.HTTP_202_ACCEPTED)


class DataSubjectRequestListView(GenericAPIView):
    """GET: the tenant's requests. POST: an access request (recorded, answered by its export) or an erasure
    (carried out at once; `dry_run` only reports what would be erased)."""

    token_scopes = {"post": TokenScope.DATA_PROTECTION}

    serializer_class = DataSubjectRequestSerializer
    queryset = DataSubjectRequest.objects.none()  # the model for the schema; rows come from the selector

    def get_permissions(self):
        perm = "audit.add_datasubjectrequest" if self.request.method == "POST" else "audit.view_datasubjectrequest"
        return [needs(perm)()]

    @extend_schema(operation_id="subject_requests_list", parameters=[
        OpenApiParameter(CURSOR_PARAM, str, description="Cursor: taken from the next or previous link of a page.")],
        responses=page_serializer("PaginatedDataSubjectRequestList", DataSubjectRequestSerializer(many=True)))
    def get(self, request):
        """The tenant's data subject requests, newest first, by cursor pages."""
        page = self.paginate_queryset(selectors.request_list(tenant=request_tenant(request)))
        return self.get_paginated_response(DataSubjectRequestSerializer(page, many=True).data)

    @extend_schema(request=DataSubjectRequestCreateInputSerializer,
                   responses={201: DataSubjectRequestSerializer, 200: ErasureReportSerializer})
    def post(self, request):
        data = DataSubjectRequestCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        actor, tenant = actor_from_request(request), request_tenant(request)
        try:
            if values["kind"] == RequestKind.ACCESS:
                created = data_subject_access_request_open(
                    actor=actor, tenant=tenant, identifier=values["identifier"],
                    kind=values.get("identifier_kind"), received_at=values.get("received_at"),
                    channel=values["channel"], reason=values["reason"])
                return Response(DataSubjectRequestSerializer(created).data, status=status.HTTP_201_CREATED)
            report = data_subject_erase(actor=actor, tenant=tenant, identifier=values["identifier"],
                                        kind=values.get("identifier_kind"), dry_run=values["dry_run"],
                                        received_at=values.get("received_at"), reason=values["reason"],
                                        channel=values["channel"])
        except AmbiguousSubject as error:
            return problem_response(400, code="ambiguous_subject", detail=str(error),
                                    errors=[{"field": "identifier", "code": "ambiguous_subject", "detail": str(error)}],
                                    candidates=error.candidates)
        except SubjectNotFound as error:
            return problem_response(404, code="subject_not_found", detail=str(error))
        body = ErasureReportSerializer(report).data
        return Response(body, status=status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED)


class DataSubjectRequestDetailView(GenericAPIView):
    permission_classes = [needs("audit.view_datasubjectrequest")]
    serializer_class = DataSubjectRequestSerializer

    def get(self, request, pk: int):
        try:
            found = selectors.request_get(tenant=request_tenant(request), pk=pk)
        except ObjectDoesNotExist:
            raise NotFound from None
        return Response(DataSubjectRequestSerializer(found).data)


class DataSubjectRequestActionView(GenericAPIView):
    """The DSB's steps on an open request: `verify-identity` (check, note), `extend` (months 1 or 2, reason),
    `refuse` (reason), `complete` (an access request whose answer went out; needs the identity check)."""

    permission_classes = [needs("audit.add_datasubjectrequest")]
    token_scopes = {"post": TokenScope.DATA_PROTECTION}
    serializer_class = DataSubjectRequestSerializer
    ACTIONS = ("verify-identity", "extend", "refuse", "complete")

    @extend_schema(operation_id="subject_request_action", request=DataSubjectRequestActionInputSerializer,
                   responses={200: DataSubjectRequestSerializer})
    def post(self, request, pk: int, action: str):
        if action not in self.ACTIONS:
            raise NotFound
        try:
            found = selectors.request_get(tenant=request_tenant(request), pk=pk)
        except ObjectDoesNotExist:
            raise NotFound from None
        data = DataSubjectRequestActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, actor = data.validated_data, actor_from_request(request)
        if action == "verify-identity":
            found = data_subject_request_verify_identity(actor=actor, request=found, check=values["check"],
                                                         note=values["note"])
        elif action == "extend":
            found = data_subject_request_extend(actor=actor, request=found, months=values.get("months", 0),
                                                reason=values["reason"])
        elif action == "refuse":
            found = data_subject_request_refuse(actor=actor, request=found, reason=values["reason"])
        else:
            if found.kind != RequestKind.ACCESS:
                raise NotFound
            found = data_subject_access_complete(actor=actor, request=found)
        return Response(DataSubjectRequestSerializer(found).data)


def _access_request(request, pk: int):
    """The tenant's access request (Art. 15) `pk`; any other request, or none, is not found."""
    try:
        found = selectors.request_get(tenant=request_tenant(request), pk=pk)
    except ObjectDoesNotExist:
        raise NotFound from None
    if found.kind != RequestKind.ACCESS:
        raise NotFound
    return found


class DataSubjectAccessExportView(GenericAPIView):
    """The access request's answer: every automated decision about the person. Reading it changes nothing;
    completing the request is a POST of its own (`.../complete/`)."""

    permission_classes = [needs("audit.add_datasubjectrequest")]
    refusal_status = status.HTTP_409_CONFLICT  # not an access request, or the person was erased since

    @extend_schema(responses={200: dict, 409: problem("The person was erased since (`conflict`).")})
    def get(self, request, pk: int):
        found = _access_request(request, pk)
        return Response(data_subject_access_export(actor=actor_from_request(request), request=found))


class DataSubjectAccessAnswerPdfView(GenericAPIView):
    """The access request's answer as the PDF the person receives (Art. 15(1)(a)–(h) and 15(3), with copies of
    the documents): the same document as on the DSB's page. Reading it changes nothing."""

    permission_classes = [needs("audit.add_datasubjectrequest")]
    refusal_status = status.HTTP_409_CONFLICT  # the person was erased since
    content_negotiation_class = _FormatIsTheExportsOwn  # a PDF, or a problem document

    @extend_schema(operation_id="subject_request_answer_pdf",
                   responses={(200, "application/pdf"): bytes,
                              409: problem("The person was erased since (`conflict`).")})
    def get(self, request, pk: int):
        found = _access_request(request, pk)
        pdf = data_subject_access_answer_pdf(actor=actor_from_request(request), request=found)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="auskunft-{pk}.pdf"'
        response["Cache-Control"] = "no-store"
        return response


class ProcessingRecordsView(GenericAPIView):
    """Records of processing activities (Art. 30(1) GDPR) with their missing entries."""

    permission_classes = [needs("audit.view_processing_records")]

    @extend_schema(responses={200: dict})
    def get(self, request):
        document = processing_records(tenant=request_tenant(request))
        return Response({"generated_at": document.generated_at, "incomplete": document.incomplete,
                         "records": [asdict(record) for record in document.records],
                         "without_personal_data": document.without_personal_data})


class WorksCouncilView(GenericAPIView):
    """What is measured about employees per use case, and whether figures per person are enabled."""

    permission_classes = [needs("audit.view_employee_measures")]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(asdict(works_council_report(tenant=request_tenant(request))))




class LegalHoldListView(GenericAPIView):
    """GET: the tenant's legal holds. POST: place one (scope item, person, use_case or period), with reason and
    reference."""

    token_scopes = {"post": TokenScope.DATA_PROTECTION}

    serializer_class = LegalHoldSerializer
    queryset = LegalHold.objects.none()  # the model for the schema; rows come from the selector

    def get_permissions(self):
        return [needs("audit.add_legalhold" if self.request.method == "POST" else "audit.view_legalhold")()]

    @extend_schema(operation_id="legal_holds_list", responses=LegalHoldSerializer(many=True))
    def get(self, request):
        return Response(LegalHoldSerializer(legal_hold_list(tenant=request_tenant(request))[:500], many=True).data)

    @extend_schema(request=LegalHoldCreateInputSerializer, responses={201: LegalHoldSerializer})
    def post(self, request):
        data = LegalHoldCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, tenant = data.validated_data, request_tenant(request)
        try:
            person = {"identifier_kind": values.get("identifier_kind", "")}
            if values["scope"] == "person" and values["identifier"].strip():
                subject = subject_identify(tenant=tenant, identifier=values["identifier"],
                                           kind=values.get("identifier_kind"))
                person = {"identifier_kind": subject.kind,
                          "identifiers": [(i.kind, i.value) for i in subject.identifiers]}
            hold = legal_hold_place(
                actor=actor_from_request(request), tenant=tenant, scope=values["scope"], reason=values["reason"],
                reference=values["reference"], item_id=values["item_id"], identifier=values["identifier"],
                use_case_key=values["use_case"], date_from=values["date_from"], date_until=values["date_until"],
                **person)
        except AmbiguousSubject as error:
            return problem_response(400, code="ambiguous_subject", detail=str(error),
                                    errors=[{"field": "identifier", "code": "ambiguous_subject", "detail": str(error)}],
                                    candidates=error.candidates)
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)


class LegalHoldLiftView(GenericAPIView):
    """Lift an active hold, with the reason."""

    token_scopes = {"post": TokenScope.DATA_PROTECTION}

    permission_classes = [needs("audit.change_legalhold")]
    serializer_class = LegalHoldSerializer

    @extend_schema(request=LegalHoldLiftInputSerializer, responses={200: LegalHoldSerializer})
    def post(self, request, pk: int):
        try:
            hold = legal_hold_get(tenant=request_tenant(request), pk=pk)
        except ObjectDoesNotExist:
            raise NotFound from None
        data = LegalHoldLiftInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = legal_hold_lift(actor=actor_from_request(request), hold=hold, reason=data.validated_data["reason"])
        return Response(LegalHoldSerializer(hold).data)
