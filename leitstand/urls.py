from django.urls import path

from leitstand import views

app_name = "leitstand"

urlpatterns = [
    path("", views.LeitstandView.as_view(), name="home"),
    path("export/", views.LeitstandExportView.as_view(), name="export"),
    path("<slug:key>/", views.LeitstandView.as_view(), name="use-case"),
    path("<slug:key>/export/", views.LeitstandExportView.as_view(), name="use-case-export"),
]
