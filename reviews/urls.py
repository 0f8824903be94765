from django.urls import path

from reviews.views import briefings, files, grants, oversight, queues, tasks

app_name = "reviews"

urlpatterns = [
    path("", queues.QueueListView.as_view(), name="queue-list"),
    path("queues/<int:pk>/", queues.QueueDetailView.as_view(), name="queue-detail"),
    path("queues/<int:pk>/next/", queues.QueueNextTaskView.as_view(), name="queue-next"),
    path("queues/<int:pk>/bulk-approve/", queues.QueueBulkApproveView.as_view(), name="queue-bulk-approve"),
    path("tasks/<int:pk>/", tasks.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<int:pk>/claim/", tasks.TaskClaimView.as_view(), name="task-claim"),
    path("tasks/<int:pk>/release/", tasks.TaskReleaseView.as_view(), name="task-release"),
    path("tasks/<int:pk>/decide/", tasks.TaskDecideView.as_view(), name="task-decide"),
    path("tasks/<int:pk>/files/<int:file_pk>/", files.TaskFileView.as_view(), name="task-file"),
    path("tasks/<int:pk>/files/<int:file_pk>/pages/<int:page>.png", files.TaskFilePageView.as_view(),
         name="task-file-page"),
    path("tasks/<int:pk>/files/<int:file_pk>/documents/<int:doc_pk>/pages/<int:page>.png",
         files.TaskDocumentPageView.as_view(), name="task-document-page"),
    path("briefings/<slug:key>/", briefings.BriefingView.as_view(), name="briefing"),
    path("briefings/<slug:key>/confirm/", briefings.BriefingConfirmView.as_view(), name="briefing-confirm"),
    path("briefing-notices/<int:pk>/read/", briefings.BriefingNoticeReadView.as_view(), name="briefing-notice-read"),
    path("trainings/", briefings.TrainingRecordView.as_view(), name="trainings"),
    path("oversight/", oversight.OversightView.as_view(), name="oversight"),
    path("grants/", grants.GrantsView.as_view(), name="grants"),
]
