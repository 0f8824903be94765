from rest_framework.routers import SimpleRouter

from automations.api import registry, training, views

router = SimpleRouter()
router.register("work-items", views.WorkItemViewSet, basename="work-item")
urlpatterns = router.urls + registry.urlpatterns + training.urlpatterns
