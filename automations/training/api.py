"""Labelled examples, classifier training and classifier versions over the API, under the same
permissions as the training pages: import examples (CSV or JSON Lines, the import report with line
numbers), their statistics, start a training run on the worker and follow its progress, read versions
with their evaluation, and propose a threshold set from one."""
import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from audit.actors import actor_from_request
from automations.choices import ExampleSource
from automations.registry import selectors
from automations.registry.api.filters import UseCaseKeyFilter
from automations.registry.api.serializers import ThresholdSetVersionSerializer
from automations.registry.models.use_cases import UseCase
from automations.training import services as training
from automations.training.models import ClassifierVersion
from automations.training.selectors import classifier_version_list_for_tenant, example_statistics, training_progress_get
from portal.api.permissions import HasTenantPermissions, TenantModelPermissions, request_tenant
from portal.api.schema import problem
from portal.api.viewsets import TenantScopedMixin
from portal.choices import TokenScope


class UseCaseFromUrl:
    def use_case(self):
        try:
            return selectors.use_case_get(tenant=request_tenant(self.request), key=self.kwargs["key"])
        except ObjectDoesNotExist:
            raise NotFound("No such use case.") from None


# --- serializers ------------------------------------------------------------------------------------------

class LineMessageSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ExampleImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (header line; comma or semicolon) or JSON Lines.")
    text_columns = serializers.CharField(help_text="Comma-separated input columns, e.g. subject,body")
    label_columns = serializers.CharField(help_text="Comma-separated output fields of the use case, "
                                                    "e.g. queue,priority")


class ExampleImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    bad = LineMessageSerializer(many=True, help_text="Rows skipped, with their line number.")
    duplicates = LineMessageSerializer(many=True, help_text="Already stored before: skipped.")
    repeated = LineMessageSerializer(many=True, help_text="Repeated within the file: kept, counted as often as "
                                                          "they occur.")
    conflicts = LineMessageSerializer(many=True, help_text="Same text, other labels: kept; the newest label counts.")
    added_choices = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    pending_choices = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                            help_text="New values that need a documentation change request.")
    missing_labels = serializers.DictField(child=serializers.IntegerField())
    warnings = serializers.ListField(child=serializers.CharField())


def report_data(report) -> dict:
    lines = lambda entries: [{"line": line, "reason": reason} for line, reason in entries]  # noqa: E731
    return {"rows": report.rows, "created": report.created, "bad": lines(report.bad),
            "duplicates": lines(report.duplicates), "repeated": lines(report.repeated),
            "conflicts": lines(report.conflicts),
            "added_choices": report.added_choices, "pending_choices": report.pending_choices,
            "missing_labels": report.missing_labels, "warnings": report.warnings}


class FieldValuesSerializer(serializers.Serializer):
    values = serializers.DictField(child=serializers.IntegerField(), help_text="examples per value")
    missing = serializers.IntegerField(help_text="examples without a value for this field")


class RepeatedTextMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=ExampleSource.choices)  # type: ignore[assignment]  # declared fields leave the class (DRF's metaclass); the stubs see them
    labels = serializers.DictField(child=serializers.CharField())


class RepeatedTextSerializer(serializers.Serializer):
    hash = serializers.CharField(help_text="start of the text's hash")
    members = RepeatedTextMemberSerializer(many=True)


class ExampleStatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    sources = serializers.DictField(child=serializers.IntegerField())
    demo_excluded = serializers.BooleanField(help_text="demo examples are left out of training")
    fields = serializers.DictField(child=FieldValuesSerializer())  # type: ignore[assignment]  # declared fields leave the class (DRF's metaclass); the stubs see them
    duplicate_count = serializers.IntegerField()
    conflict_count = serializers.IntegerField()
    duplicates = RepeatedTextSerializer(many=True)
    conflicts = RepeatedTextSerializer(many=True)


class TrainingProgressSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["none", "queued", "running", "done", "failed"])
    message = serializers.CharField(allow_blank=True)
    fraction = serializers.FloatField()
    version_id = serializers.IntegerField(allow_null=True)
    version_number = serializers.IntegerField(allow_null=True)
    updated_at = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    stale = serializers.BooleanField(help_text="no report for longer than a run may last; it may be started again")


NO_RUN = {"state": "none", "message": "", "fraction": 0.0, "version_id": None, "version_number": None,
          "updated_at": None, "active": False, "stale": False}


class ClassifierVersionSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    author: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ClassifierVersion
        fields = ["id", "use_case", "number", "author", "created_at", "text_columns", "fields", "training_data_hash",
                  "example_count", "library_versions", "parameters", "evaluation", "format_version",
                  "artifact_sha256"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # The per-item (confidence, right) points are kept for proposing thresholds; they are long and
        # say nothing a client needs beyond the curve and the automation share.
        evaluation = dict(data.get("evaluation") or {})
        evaluation["fields"] = {name: {k: v for k, v in e.items() if k != "points"}
                                for name, e in (evaluation.get("fields") or {}).items()}
        data["evaluation"] = evaluation
        return data


# --- views ------------------------------------------------------------------------------------------------

class ExamplesView(UseCaseFromUrl, GenericAPIView):
    """A use case's labelled examples: GET their statistics (never the texts), POST a file to import."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}
    required_permissions = {"GET": ("automations.view_labelledexample",), "HEAD": ("automations.view_labelledexample",),
                            "POST": ("automations.add_labelledexample",)}
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ExampleStatisticsSerializer

    @extend_schema(responses={200: ExampleStatisticsSerializer})
    def get(self, request, key):
        """Examples per source and per value of each category field; texts stored more than once with the
        same labels (duplicates) or other labels (conflicts)."""
        return Response(example_statistics(use_case=self.use_case()))

    @extend_schema(request={"multipart/form-data": ExampleImportInputSerializer},
                   responses={201: ExampleImportReportSerializer})
    def post(self, request, key):
        """Import labelled examples; bad rows are skipped and reported with their line number, unseen values
        of a category field are added as choices (or reported as pending while the use case runs)."""
        use_case = self.use_case()
        body = ExampleImportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        report = training.examples_import(
            actor=actor_from_request(request), use_case=use_case, file=upload, name=upload.name,
            text_columns=body.validated_data["text_columns"], label_columns=body.validated_data["label_columns"],
            source_ref=upload.name)
        return Response(report_data(report), status=status.HTTP_201_CREATED)


class TrainingView(UseCaseFromUrl, GenericAPIView):
    """A use case's training run: GET its progress, POST to start one on the worker (202)."""

    permission_classes = [HasTenantPermissions]
    token_scopes = {"post": TokenScope.REGISTRY_WRITE}
    required_permissions = {"GET": ("automations.view_classifierversion",),
                            "HEAD": ("automations.view_classifierversion",),
                            "POST": ("automations.add_classifierversion",)}
    serializer_class = TrainingProgressSerializer
    refusal_status = status.HTTP_409_CONFLICT  # a run is on already, or nothing to learn from

    def _progress(self, use_case) -> dict:
        return {**NO_RUN, **(training_progress_get(use_case=use_case) or {})}

    @extend_schema(responses={200: TrainingProgressSerializer})
    def get(self, request, key):
        """The progress of the latest run (`state` none, queued, running, done or failed); when done,
        `version_id` is the new classifier version."""
        return Response(self._progress(self.use_case()))

    @extend_schema(request=None, responses={
        202: TrainingProgressSerializer,
        409: problem("A run is queued or running, or there are no examples yet (`conflict`).")})
    def post(self, request, key):
        """Queue a training run; 409 while another is queued or running, or without examples. The new
        version reaches production only through a release and a change request."""
        use_case = self.use_case()
        training.classifier_training_start(actor=actor_from_request(request), use_case=use_case)
        return Response(self._progress(use_case), status=status.HTTP_202_ACCEPTED)


class ClassifierVersionFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter(help_text="Only this use case's versions (its key).")

    class Meta:
        model = ClassifierVersion
        fields = ["use_case"]


class ClassifierVersionViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Trained classifier versions, newest first, with their held-out evaluation."""

    permission_classes = [TenantModelPermissions]
    token_scopes = {"propose_thresholds": TokenScope.REGISTRY_WRITE}
    serializer_class = ClassifierVersionSerializer
    queryset = ClassifierVersion.objects.none()
    filterset_class = ClassifierVersionFilterSet

    def scoped_queryset(self, *, tenant, user):
        return classifier_version_list_for_tenant(tenant=tenant)

    def list(self, request, *args, **kwargs):
        """The tenant's classifier versions (`?use_case=KEY` for one use case's), newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={201: ThresholdSetVersionSerializer})
    @action(detail=True, methods=["post"], url_path="propose-thresholds")
    def propose_thresholds(self, request, pk=None):
        """Draft a threshold set whose `auto` thresholds meet the use case's target precision on this
        version's evaluation; it still goes through the registry's change control."""
        version = self.get_object()
        if not request.user.has_perm("automations.add_thresholdsetversion"):
            raise ApiPermissionDenied("Missing permission automations.add_thresholdsetversion in this tenant.")
        proposal = training.threshold_set_propose(actor=actor_from_request(request), classifier_version=version)
        return Response(ThresholdSetVersionSerializer(proposal).data, status=status.HTTP_201_CREATED)

    def get_permissions(self):
        if self.action == "propose_thresholds":
            # The version must be readable (view), whatever DjangoObjectPermissions maps POST to.
            return [ReadPermission()]
        return super().get_permissions()


class ReadPermission(TenantModelPermissions):
    perms_map = {**TenantModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


router = SimpleRouter()
router.register("classifier-versions", ClassifierVersionViewSet, basename="classifier-version")

urlpatterns = [
    *router.urls,
    path("use-cases/<slug:key>/examples/", ExamplesView.as_view(), name="use-case-examples"),
    path("use-cases/<slug:key>/training/", TrainingView.as_view(), name="use-case-training"),
]
