"""Quality over the API, under the same permissions as the pages: replay thresholds on past decisions (a read:
nothing is stored), the backtests kept with change requests, the circuit breakers' state, and the periodic
reviews (read, and completed by an owner or an automation lead). Switching automatic application back on is a
change request of the kind `quality_breaker_reset` (POST /api/v1/change-requests/)."""
import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from audit.actors import actor_from_request
from automations.quality import selectors, services
from automations.quality.backtest import threshold_backtest
from automations.quality.choices import REVIEW_CHECKLIST, ReviewOutcome, ReviewState
from automations.quality.models import QualityBreaker, ThresholdBacktest, UseCaseReview
from automations.registry import selectors as registry_selectors
from automations.registry.api.filters import UseCaseKeyFilter
from automations.registry.models.use_cases import UseCase
from automations.registry.models.versions import ThresholdSetVersion
from portal.api.permissions import HasTenantPermissions, TenantModelPermissions, request_tenant
from portal.api.viewsets import TenantScopedMixin
from portal.choices import TokenScope

# --- serializers ------------------------------------------------------------------------------------------

class ThresholdBacktestInputSerializer(serializers.Serializer):
    thresholds = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField(min_value=0, max_value=1)), required=False,
        help_text='Per output field {"auto": 0.9, "reject": 0.3}; or name a stored version with threshold_set.')
    threshold_set = serializers.IntegerField(required=False, min_value=1,
                                             help_text="Number of a threshold set version of the use case.")
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=366,
                                    help_text="How many past days to replay.")

    def validate(self, attrs):
        if ("thresholds" in attrs) == ("threshold_set" in attrs):
            raise serializers.ValidationError("Give either thresholds or threshold_set.")
        for name, pair in (attrs.get("thresholds") or {}).items():
            if set(pair) - {"auto", "reject"}:
                raise serializers.ValidationError({"thresholds": [f"{name}: only auto and reject."]})
        return attrs


class ThresholdBacktestSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    threshold_set: "serializers.SlugRelatedField[ThresholdSetVersion]" = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True)
    figures = serializers.DictField(read_only=True)

    class Meta:
        model = ThresholdBacktest
        fields = ["id", "use_case", "threshold_set", "change_request", "thresholds", "days", "figures", "created_at"]


class QualityBreakerSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = QualityBreaker
        fields = ["id", "use_case", "tripped", "tripped_at", "reason", "figures", "reset_at", "reset_change_request",
                  "evaluated_at", "last_figures"]


class UseCaseReviewSerializer(serializers.ModelSerializer):
    use_case: "serializers.SlugRelatedField[UseCase]" = serializers.SlugRelatedField(slug_field="key", read_only=True)
    completed_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = UseCaseReview
        fields = ["id", "use_case", "due_on", "state", "period_start", "period_end", "checklist", "notes", "figures",
                  "outcome", "change_request", "completed_by", "completed_at"]


class UseCaseReviewCompleteInputSerializer(serializers.Serializer):
    checklist = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="Every question answered: " + ", ".join(key for key, _question in REVIEW_CHECKLIST))
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)
    change_request = serializers.IntegerField(required=False, allow_null=True, default=None,
                                              help_text="For `adjust`: the id of the use case's change request.")


# --- views ------------------------------------------------------------------------------------------------

class ThresholdBacktestRunView(GenericAPIView):
    """Replay thresholds (given, or a stored version's) on the use case's items and the clerks' decisions of
    the last `days` days, beside the thresholds in force. Nothing is stored."""

    permission_classes = [HasTenantPermissions]
    required_permissions = ("automations.view_usecase", "automations.view_thresholdbacktest")
    token_scopes = {"post": TokenScope.READ}
    serializer_class = ThresholdBacktestInputSerializer

    @extend_schema(request=ThresholdBacktestInputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, key):
        try:
            use_case = registry_selectors.use_case_get(tenant=request_tenant(request), key=key)
        except ObjectDoesNotExist:
            raise NotFound("No such use case.") from None
        body = ThresholdBacktestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        thresholds = data.get("thresholds")
        if thresholds is None:
            try:
                thresholds = registry_selectors.version_get(use_case=use_case, kind="threshold_set",
                                                            number=data["threshold_set"]).thresholds
            except ObjectDoesNotExist:
                raise ApiValidationError({"threshold_set": [f"No version {data['threshold_set']}."]}) from None
        return Response(threshold_backtest(use_case=use_case, thresholds=thresholds, days=data["days"]))


class ThresholdBacktestFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter()
    change_request = django_filters.NumberFilter(help_text=_("Only the backtest kept with this change request."))

    class Meta:
        model = ThresholdBacktest
        fields = ["use_case", "change_request"]


class ThresholdBacktestViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Backtests kept with change requests that move thresholds (`?change_request=ID`)."""

    permission_classes = [TenantModelPermissions]
    serializer_class = ThresholdBacktestSerializer
    queryset = ThresholdBacktest.objects.none()
    filterset_class = ThresholdBacktestFilterSet

    def scoped_queryset(self, *, tenant, user):
        return selectors.threshold_backtest_list(tenant=tenant)


class QualityBreakerFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter()
    tripped = django_filters.BooleanFilter(help_text=_("true: only where automatic application is switched off."))

    class Meta:
        model = QualityBreaker
        fields = ["use_case", "tripped"]


class QualityBreakerViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The quality circuit breakers: whether automatic application of a use case is switched off, and why."""

    permission_classes = [TenantModelPermissions]
    serializer_class = QualityBreakerSerializer
    queryset = QualityBreaker.objects.none()
    filterset_class = QualityBreakerFilterSet

    def scoped_queryset(self, *, tenant, user):
        return selectors.quality_breaker_list(tenant=tenant)


class UseCaseReviewFilterSet(django_filters.FilterSet):
    use_case = UseCaseKeyFilter()
    state = django_filters.ChoiceFilter(choices=ReviewState.choices, help_text=_("due or completed."))

    class Meta:
        model = UseCaseReview
        fields = ["use_case", "state"]


class UseCaseReviewViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Periodic reviews (`?state=due`); an owner of the use case or an automation lead completes a due one."""

    permission_classes = [TenantModelPermissions]
    serializer_class = UseCaseReviewSerializer
    queryset = UseCaseReview.objects.none()
    filterset_class = UseCaseReviewFilterSet
    token_scopes = {"complete": TokenScope.REGISTRY_WRITE}
    refusal_status = {"complete": status.HTTP_409_CONFLICT}  # completed already

    def get_permissions(self):
        if self.action == "complete":
            self.required_permissions = ("automations.view_usecasereview", "automations.change_usecasereview")
            return [HasTenantPermissions()]
        return super().get_permissions()

    def scoped_queryset(self, *, tenant, user):
        return selectors.use_case_review_list(tenant=tenant)

    @extend_schema(request=UseCaseReviewCompleteInputSerializer, responses={200: UseCaseReviewSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Record the checklist, notes and outcome; the figures of the period are attached, and the use case's
        last review becomes now. `retire` proposes the retirement as a change request."""
        review = self.get_object()
        body = UseCaseReviewCompleteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        change_request = None
        if data["change_request"] is not None:
            change_request = registry_selectors.change_request_list(
                tenant=review.tenant, use_case=review.use_case).filter(pk=data["change_request"]).first()
            if change_request is None:
                raise ApiValidationError({"change_request": ["No change request of this use case."]})
        review = services.use_case_review_complete(
            actor=actor_from_request(request), review=review, checklist=data["checklist"], notes=data["notes"],
            outcome=data["outcome"], change_request=change_request)
        return Response(UseCaseReviewSerializer(self.get_queryset().get(pk=review.pk)).data)


router = SimpleRouter()
router.register("threshold-backtests", ThresholdBacktestViewSet, basename="threshold-backtest")
router.register("quality-breakers", QualityBreakerViewSet, basename="quality-breaker")
router.register("use-case-reviews", UseCaseReviewViewSet, basename="use-case-review")

urlpatterns = [
    *router.urls,
    path("use-cases/<slug:key>/threshold-backtest/", ThresholdBacktestRunView.as_view(),
         name="use-case-threshold-backtest"),
]
