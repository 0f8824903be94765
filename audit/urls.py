from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.AuditHomeView.as_view(), name="home"),
    path("verification/", views.VerificationStartView.as_view(), name="verification-start"),
    path("events/", views.EventListView.as_view(), name="event-list"),
    path("events/export/", views.EventExportView.as_view(), name="event-export"),
    path("events/<str:stream>/<int:sequence>/", views.EventDetailView.as_view(), name="event-detail"),
    path("pseudonyms/reveal/", views.PseudonymRevealView.as_view(), name="pseudonym-reveal"),
    path("requests/", views.RequestListView.as_view(), name="request-list"),
    path("requests/access/", views.AccessRequestCreateView.as_view(), name="access-request-create"),
    path("requests/erasure/", views.ErasureRequestView.as_view(), name="erasure"),
    path("requests/<int:pk>/", views.RequestDetailView.as_view(), name="request-detail"),
    path("requests/<int:pk>/<str:action>/", views.RequestActionView.as_view(), name="request-action"),
    path("requests/<int:pk>/export.<str:fmt>", views.AccessRequestExportView.as_view(), name="request-export"),
    path("legal-holds/", views.LegalHoldListView.as_view(), name="legal-holds"),
    path("legal-holds/<int:pk>/lift/", views.LegalHoldLiftView.as_view(), name="legal-hold-lift"),
    path("restricted/", views.RestrictedItemListView.as_view(), name="restricted-items"),
    path("processing-records/", views.ProcessingRecordsView.as_view(), name="processing-records"),
    path("processing-records.pdf", views.ProcessingRecordsPdfView.as_view(), name="processing-records-pdf"),
    path("works-council/", views.WorksCouncilView.as_view(), name="works-council"),
]
