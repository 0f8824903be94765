from rest_framework.routers import SimpleRouter

from reviews.api import views

router = SimpleRouter()
router.register("review-queues", views.ReviewQueueViewSet, basename="review-queue")
router.register("review-tasks", views.ReviewTaskViewSet, basename="review-task")
urlpatterns = router.urls
