"""URLs of the registry pages (mounted under /registry/ in the `automations` namespace by automations.urls)."""
from django.urls import path, register_converter

from automations.registry.views import catalogue, changes, registry_io, use_cases, versions


class VersionKindConverter:
    """Only the four kinds of versioned records; anything else is not a URL of the registry."""

    regex = "prompt_template|threshold_set|guardrail_set|engine_config"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(VersionKindConverter, "version_kind")

urlpatterns = [
    path("", use_cases.UseCaseListView.as_view(), name="use-case-list"),
    path("new/", use_cases.UseCaseCreateView.as_view(), name="use-case-create"),
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
    path("import/", registry_io.RegistryImportView.as_view(), name="registry-import"),
    path("<slug:key>/", use_cases.UseCaseDetailView.as_view(), name="use-case-detail"),
    path("<slug:key>/edit/", use_cases.UseCaseUpdateView.as_view(), name="use-case-update"),
    path("<slug:key>/history/", use_cases.UseCaseHistoryView.as_view(), name="use-case-history"),
    path("<slug:key>/suspend/", use_cases.UseCaseSuspendView.as_view(), name="use-case-suspend"),
    path("<slug:key>/documentation/", use_cases.ProcedureDocumentView.as_view(), name="procedure-document"),
    path("<slug:key>/documentation.pdf", use_cases.ProcedureDocumentPdfView.as_view(), name="procedure-document-pdf"),
    path("<slug:key>/changes/label/", changes.LabelMoveCreateView.as_view(), name="label-move-create"),
    path("<slug:key>/changes/status/", changes.StatusChangeCreateView.as_view(), name="status-change-create"),
    path("<slug:key>/releases/new/", versions.ReleaseCreateView.as_view(), name="release-create"),
    path("<slug:key>/releases/<int:number>/", versions.ReleaseDetailView.as_view(), name="release-detail"),
    path("<slug:key>/<version_kind:kind>/", versions.VersionListView.as_view(), name="version-list"),
    path("<slug:key>/<version_kind:kind>/new/", versions.VersionCreateView.as_view(), name="version-create"),
    path("<slug:key>/<version_kind:kind>/diff/", versions.VersionDiffView.as_view(), name="version-diff"),
    path("<slug:key>/<version_kind:kind>/<int:number>/", versions.VersionDetailView.as_view(),
         name="version-detail"),
    path("<slug:key>/<version_kind:kind>/<int:number>/submit/", versions.VersionSubmitView.as_view(),
         name="version-submit"),

]
