"""Test cases and evaluations over the API, under the same permissions as the evaluation pages: list and create
test cases, import a file of them (the report with the bad rows), start an evaluation of a release (202, the
worker runs it) and read evaluations with their figures and verdict."""
import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from audit.actors import actor_from_request
from automations.evaluation import selectors
from automations.evaluation.choices import CaseTag
from automations.evaluation.models import EvaluationRun, QualityTestCase
from automations.evaluation.services import evaluations, test_cases
from automations.registry import selectors as registry_selectors
from automations.registry.api.filters import UseCaseKeyFilter
from automations.registry.models.use_cases import UseCase
from portal.api.filters import BooleanFilter
from portal.api.permissions import HasTenantPermissions, TenantModelPermissions, request_tenant
from portal.api.schema import problem
from portal.api.viewsets import TenantScopedMixin
from portal.choices import TokenScope


def _use_case(request, key):
    try:
        return registry_selectors.use_case_get(tenant=request_tenant(request), key=key)
    except ObjectDoesNotExist:
        raise NotFound("No such use case.") from None


class QualityTestCaseSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    created_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(slug_field="username",
                                                                                   read_only=True)
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = QualityTestCase
        fields = ["id", "use_case", "title", "text", "payload", "file_name", "has_file", "expected", "tags", "source",
                  "source_ref", "is_active", "created_by", "created_at"]
        read_only_fields = fields

    def get_has_file(self, case) -> bool:
        return bool(case.file)


class QualityTestCaseCreateInputSerializer(serializers.Serializer):
    use_case = serializers.SlugField(help_text="The use case's key.")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(required=False, allow_blank=True, help_text="Input text, read like a text document.")
    payload = serializers.DictField(required=False, help_text="Input fields of the use case.")
    expected = serializers.DictField(help_text="Expected value per output field; only these fields are scored.")
    tags = serializers.ListField(child=serializers.ChoiceField(choices=CaseTag.choices), required=False)


class QualityTestCaseFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter(help_text="Only this use case's test cases (its key).")
    is_active = BooleanFilter(help_text="Only active (true) or retired (false) test cases.")

    class Meta:
        model = QualityTestCase
        fields = ["use_case", "is_active"]


class QualityTestCaseViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Test cases of the request's tenant (`?use_case=KEY`)."""

    permission_classes = [TenantModelPermissions]
    token_scopes = {"create": TokenScope.REGISTRY_WRITE}
    serializer_class = QualityTestCaseSerializer
    queryset = QualityTestCase.objects.none()
    filterset_class = QualityTestCaseFilterSet

    def scoped_queryset(self, *, tenant, user):
        return selectors.quality_test_case_list_for_tenant(tenant=tenant)

    def list(self, request, *args, **kwargs):
        """Test cases with their inputs, a page at a time (recorded as a look at personal data where a use case
        has some)."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        shown = list(page if page is not None else queryset)
        test_cases.test_cases_page_view_record(actor=actor_from_request(request), cases=shown,
                                               purpose="test cases (API)")
        data = self.get_serializer(shown, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        """One test case with its input (recorded as a look at personal data where its use case has some)."""
        case = self.get_object()
        test_cases.test_cases_view_record(actor=actor_from_request(request), use_case=case.use_case, cases=[case],
                                          purpose="test case (API)")
        return Response(self.get_serializer(case).data)

    @extend_schema(request=QualityTestCaseCreateInputSerializer, responses={201: QualityTestCaseSerializer})
    def create(self, request):
        """Create a test case by hand; the values are checked against the use case's field schema."""
        body = QualityTestCaseCreateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        use_case = _use_case(request, data.pop("use_case"))
        case = test_cases.test_case_create(actor=actor_from_request(request), use_case=use_case, **data)
        return Response(QualityTestCaseSerializer(self.get_queryset().get(pk=case.pk)).data,
                        status=status.HTTP_201_CREATED)


class QualityTestCaseImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, JSON Lines, or a zip with one such list and the files it names.")


class BadRowSerializer(serializers.Serializer):
    line = serializers.CharField(help_text="file:line")
    error = serializers.CharField()


class QualityTestCaseImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    test_cases = serializers.ListField(child=serializers.IntegerField())
    bad = BadRowSerializer(many=True, help_text="Rows not imported, with the reason.")
    unused_files = serializers.ListField(child=serializers.CharField(), help_text="Files in the zip no row names.")


class QualityTestCaseImportView(GenericAPIView):
    """Import test cases into a use case; bad rows are reported with their line and not imported."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}
    required_permissions = {"POST": ("automations.add_qualitytestcase",)}
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = QualityTestCaseImportReportSerializer

    @extend_schema(request={"multipart/form-data": QualityTestCaseImportInputSerializer},
                   responses={201: QualityTestCaseImportReportSerializer})
    def post(self, request, key):
        use_case = _use_case(request, key)
        body = QualityTestCaseImportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        report = test_cases.test_cases_import(actor=actor_from_request(request), use_case=use_case,
                                              data=upload.read(), name=upload.name)
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class EvaluationSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    release = serializers.SerializerMethodField()
    created_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(slug_field="username",
                                                                                   read_only=True)
    misses = serializers.SerializerMethodField(help_text="Quality targets missed, against the current targets.")
    passes = serializers.SerializerMethodField(help_text="Finished and meets the use case's current quality targets.")

    class Meta:
        model = EvaluationRun
        fields = ["id", "use_case", "release", "status", "total", "done", "metrics", "targets", "passes", "misses",
                  "error", "created_by", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_release(self, evaluation) -> int:
        return evaluation.release.number

    def get_misses(self, evaluation) -> list[str]:
        return selectors.evaluation_misses(evaluation=evaluation) if evaluation.status == "succeeded" else []

    def get_passes(self, evaluation) -> bool:
        return evaluation.status == "succeeded" and not selectors.evaluation_misses(evaluation=evaluation)


class EvaluationFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter(help_text="Only this use case's evaluations (its key).")

    class Meta:
        model = EvaluationRun
        fields = ["use_case", "status"]


class EvaluationViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluations of releases, newest first, with their figures (automations.evaluation.metrics) and verdict."""

    permission_classes = [TenantModelPermissions]
    serializer_class = EvaluationSerializer
    queryset = EvaluationRun.objects.none()
    filterset_class = EvaluationFilterSet

    def scoped_queryset(self, *, tenant, user):
        return selectors.evaluation_list(tenant=tenant)


class EvaluationStartView(GenericAPIView):
    """Start an evaluation of a release (a draft one too) on the use case's active test cases (202)."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}
    required_permissions = {"POST": ("automations.add_evaluationrun",)}
    serializer_class = EvaluationSerializer
    refusal_status = status.HTTP_409_CONFLICT

    @extend_schema(request=None, responses={
        202: EvaluationSerializer,
        409: problem("No active test case, or an evaluation of this release is queued or running (`conflict`).")})
    def post(self, request, key, number):
        use_case = _use_case(request, key)
        try:
            release = registry_selectors.release_get(use_case=use_case, number=number)
        except ObjectDoesNotExist:
            raise NotFound("No such release.") from None
        evaluation = evaluations.evaluation_start(actor=actor_from_request(request), release=release)
        return Response(EvaluationSerializer(selectors.evaluation_list(release=release).get(pk=evaluation.pk)).data,
                        status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("test-cases", QualityTestCaseViewSet, basename="test-case")
router.register("evaluations", EvaluationViewSet, basename="evaluation")

urlpatterns = [
    *router.urls,
    path("use-cases/<slug:key>/test-cases/import/", QualityTestCaseImportView.as_view(),
         name="use-case-test-case-import"),
    path("use-cases/<slug:key>/releases/<int:number>/evaluations/", EvaluationStartView.as_view(),
         name="release-evaluation-start"),
]
