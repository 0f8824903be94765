"""URLs of the execution pages (/work/, namespace `work`) and the prompt playground's pages, which
automations.urls mounts under /registry/ in the `automations` namespace."""
from django.urls import path

from automations.execution.views import playground, work

app_name = "work"

urlpatterns = [
    path("", work.WorkItemListView.as_view(), name="item-list"),
    path("upload/", work.WorkItemUploadView.as_view(), name="upload"),
    path("escalations/", work.EscalationListView.as_view(), name="escalations"),
    path("escalations/<int:pk>/<str:action>/", work.EscalationActionView.as_view(), name="escalation-action"),
    path("master-data/", work.MasterDataView.as_view(), name="master-data"),
    path("dry-run/<slug:key>/", work.DryRunView.as_view(), name="dry-run"),
    path("<uuid:pk>/", work.WorkItemDetailView.as_view(), name="item-detail"),
    path("<uuid:pk>/files/<int:file_id>/", work.WorkItemFileView.as_view(), name="item-file"),
]

playground_urlpatterns = [
    path("playground/", playground.PlaygroundIndexView.as_view(), name="playground"),
    path("<slug:key>/playground/", playground.PlaygroundView.as_view(), name="playground-use-case"),
]
