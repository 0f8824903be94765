"""The `automations` URL namespace (/registry/): the registry's pages, a use case's training and quality pages and
the prompt playground (an execution feature: it calls providers and records the calls) under one prefix."""
from automations.connectors.urls import urlpatterns as connector_urlpatterns
from automations.evaluation.urls import urlpatterns as evaluation_urlpatterns
from automations.execution.urls import playground_urlpatterns
from automations.quality.urls import urlpatterns as quality_urlpatterns
from automations.registry.urls import urlpatterns as registry_urlpatterns
from automations.training.urls import urlpatterns as training_urlpatterns

app_name = "automations"

# Fixed paths ("playground/") before the registry's `<slug:key>/`, which would take them as a use case key.
urlpatterns = (connector_urlpatterns + playground_urlpatterns + training_urlpatterns + quality_urlpatterns
               + evaluation_urlpatterns + registry_urlpatterns)
