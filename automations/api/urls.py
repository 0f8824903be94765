from rest_framework.routers import SimpleRouter

from automations.connectors import api as connectors
from automations.evaluation import api as evaluation
from automations.execution.api import views
from automations.quality import api as quality
from automations.registry.api import views as registry
from automations.training import api as training

router = SimpleRouter()
router.register("work-items", views.WorkItemViewSet, basename="work-item")
urlpatterns = (router.urls + registry.urlpatterns + training.urlpatterns + evaluation.urlpatterns
               + connectors.urlpatterns + quality.urlpatterns)
