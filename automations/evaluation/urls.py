"""URLs of the evaluation pages (mounted under /registry/ in the `automations` namespace by automations.urls)."""
from django.urls import path

from automations.evaluation import views

urlpatterns = [
    path("test-cases/from-item/<uuid:pk>/", views.QualityTestCaseFromItemView.as_view(), name="test-case-from-item"),
    path("<slug:key>/test-cases/", views.QualityTestCaseListView.as_view(), name="test-case-list"),
    path("<slug:key>/test-cases/new/", views.QualityTestCaseCreateView.as_view(), name="test-case-create"),
    path("<slug:key>/test-cases/import/", views.QualityTestCaseImportView.as_view(), name="test-case-import"),
    path("<slug:key>/test-cases/<int:pk>/", views.QualityTestCaseDetailView.as_view(), name="test-case-detail"),
    path("<slug:key>/test-cases/<int:pk>/retire/", views.QualityTestCaseRetireView.as_view(), name="test-case-retire"),
    path("<slug:key>/releases/<int:number>/evaluate/", views.EvaluationStartView.as_view(), name="evaluation-start"),
    path("<slug:key>/evaluations/compare/", views.EvaluationCompareView.as_view(), name="evaluation-compare"),
    path("<slug:key>/evaluations/<int:pk>/", views.EvaluationDetailView.as_view(), name="evaluation-detail"),
    path("<slug:key>/evaluations/<int:pk>/progress/", views.EvaluationProgressView.as_view(),
         name="evaluation-progress"),
]
