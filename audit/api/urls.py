from django.urls import path

from audit.api import views

urlpatterns = [
    path("audit/events/", views.AuditEventListView.as_view(), name="audit-event-list"),
    path("audit/events/<int:sequence>/", views.AuditEventDetailView.as_view(), name="audit-event-detail"),
    path("audit/access-events/", views.AccessEventListView.as_view(), name="access-event-list"),
    path("audit/access-events/<int:sequence>/", views.AccessEventDetailView.as_view(), name="access-event-detail"),
    path("audit/export/", views.EventExportView.as_view(), name="audit-export"),
    path("audit/verification/", views.VerificationView.as_view(), name="audit-verification"),
    path("audit/subject-requests/", views.DataSubjectRequestListView.as_view(), name="subject-request-list"),
    path("audit/subject-requests/<int:pk>/", views.DataSubjectRequestDetailView.as_view(),
         name="subject-request-detail"),
    path("audit/subject-requests/<int:pk>/export/", views.DataSubjectAccessExportView.as_view(),
         name="subject-request-export"),
    path("audit/subject-requests/<int:pk>/export/pdf/", views.DataSubjectAccessAnswerPdfView.as_view(),
         name="subject-request-answer-pdf"),
    path("audit/subject-requests/<int:pk>/<str:action>/", views.DataSubjectRequestActionView.as_view(),
         name="subject-request-action"),
    path("audit/legal-holds/", views.LegalHoldListView.as_view(), name="legal-hold-list"),
    path("audit/legal-holds/<int:pk>/lift/", views.LegalHoldLiftView.as_view(), name="legal-hold-lift"),
    path("audit/processing-records/", views.ProcessingRecordsView.as_view(), name="processing-records"),
    path("audit/works-council/", views.WorksCouncilView.as_view(), name="works-council"),
]
