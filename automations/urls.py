from django.urls import path, register_converter

from automations.views import catalogue, changes, playground, registry, registry_io, training, versions

app_name = "automations"


class VersionKindConverter:
    """Only the four kinds of versioned records; anything else is not a URL of the registry."""

    regex = "prompt_template|threshold_set|guardrail_set|engine_config"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(VersionKindConverter, "version_kind")

urlpatterns = [
    path("", registry.UseCaseListView.as_view(), name="use-case-list"),
    path("new/", registry.UseCaseCreateView.as_view(), name="use-case-create"),
    path("catalogue/", catalogue.CatalogueListView.as_view(), name="catalogue"),
    path("catalogue/change/", changes.CatalogueChangeCreateView.as_view(), name="catalogue-change"),
    path("policy/", catalogue.TenantPolicyView.as_view(), name="tenant-policy"),
    path("policy/edit/", catalogue.TenantPolicyUpdateView.as_view(), name="tenant-policy-update"),
    path("policy/change/", changes.TenantPolicyChangeCreateView.as_view(), name="tenant-policy-change"),
    path("inbox/", changes.ChangeRequestInboxView.as_view(), name="change-request-inbox"),
    path("changes/", changes.ChangeRequestListView.as_view(), name="change-request-list"),
    path("changes/<int:pk>/", changes.ChangeRequestDetailView.as_view(), name="change-request-detail"),
    path("changes/<int:pk>/decide/", changes.ChangeRequestDecideView.as_view(), name="change-request-decide"),
    path("changes/<int:pk>/withdraw/", changes.ChangeRequestWithdrawView.as_view(), name="change-request-withdraw"),
    path("export/", registry_io.RegistryExportView.as_view(), name="registry-export"),
    path("playground/", playground.PlaygroundIndexView.as_view(), name="playground"),
    path("import/", registry_io.RegistryImportView.as_view(), name="registry-import"),
    path("<slug:key>/", registry.UseCaseDetailView.as_view(), name="use-case-detail"),
    path("<slug:key>/edit/", registry.UseCaseUpdateView.as_view(), name="use-case-update"),
    path("<slug:key>/history/", registry.UseCaseHistoryView.as_view(), name="use-case-history"),
    path("<slug:key>/playground/", playground.PlaygroundView.as_view(), name="playground-use-case"),
    path("<slug:key>/suspend/", registry.UseCaseSuspendView.as_view(), name="use-case-suspend"),
    path("<slug:key>/documentation/", registry.ProcedureDocumentView.as_view(), name="procedure-document"),
    path("<slug:key>/documentation.pdf", registry.ProcedureDocumentPdfView.as_view(), name="procedure-document-pdf"),
    path("<slug:key>/changes/label/", changes.LabelMoveCreateView.as_view(), name="label-move-create"),
    path("<slug:key>/changes/status/", changes.StatusChangeCreateView.as_view(), name="status-change-create"),
    path("<slug:key>/releases/new/", versions.ReleaseCreateView.as_view(), name="release-create"),
    path("<slug:key>/releases/<int:number>/", versions.ReleaseDetailView.as_view(), name="release-detail"),
    path("<slug:key>/training/", training.TrainingView.as_view(), name="training"),
    path("<slug:key>/training/upload/", training.ExamplesUploadView.as_view(), name="training-upload"),
    path("<slug:key>/training/start/", training.TrainingStartView.as_view(), name="training-start"),
    path("<slug:key>/training/progress/", training.TrainingProgressView.as_view(), name="training-progress"),
    path("<slug:key>/classifiers/", training.ClassifierVersionListView.as_view(), name="classifier-version-list"),
    path("<slug:key>/classifiers/<int:number>/", training.ClassifierVersionDetailView.as_view(),
         name="classifier-version-detail"),
    path("<slug:key>/classifiers/<int:number>/propose-thresholds/", training.ThresholdProposeView.as_view(),
         name="classifier-version-propose"),
    path("<slug:key>/<version_kind:kind>/", versions.VersionListView.as_view(), name="version-list"),
    path("<slug:key>/<version_kind:kind>/new/", versions.VersionCreateView.as_view(), name="version-create"),
    path("<slug:key>/<version_kind:kind>/diff/", versions.VersionDiffView.as_view(), name="version-diff"),
    path("<slug:key>/<version_kind:kind>/<int:number>/", versions.VersionDetailView.as_view(),
         name="version-detail"),
    path("<slug:key>/<version_kind:kind>/<int:number>/submit/", versions.VersionSubmitView.as_view(),
         name="version-submit"),
]
