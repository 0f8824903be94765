"""URLs of quality's pages (mounted under /registry/ in the `automations` namespace by automations.urls)."""
from django.urls import path

from automations.quality import views

urlpatterns = [
    path("<slug:key>/reviews/", views.UseCaseReviewListView.as_view(), name="use-case-review-list"),
    path("<slug:key>/reviews/<int:pk>/", views.UseCaseReviewDetailView.as_view(), name="use-case-review-detail"),
    path("<slug:key>/quality/switch-on/", views.BreakerResetCreateView.as_view(), name="quality-breaker-reset"),
]
