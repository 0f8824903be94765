from django.urls import path

from operations import views

app_name = "operations"

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("health/live/", views.health_live, name="health-live"),
    path("metrics", views.metrics, name="metrics"),
]
