from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.api import grants, views

router = SimpleRouter()
router.register("review-queues", views.ReviewQueueViewSet, basename="review-queue")
router.register("review-tasks", views.ReviewTaskViewSet, basename="review-task")
urlpatterns = [
    path("grants/", grants.GrantListView.as_view(), name="grant-list"),
    path("grants/revoke/", grants.GrantRevokeView.as_view(), name="grant-revoke"),
    *router.urls,
]
