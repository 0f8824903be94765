from django.urls import path

from automations.connectors import views

urlpatterns = [
    path("connectors/", views.ConnectorListView.as_view(), name="connectors"),
    path("connectors/deliveries/<int:pk>/redeliver/", views.DeliveryRedeliverView.as_view(),
         name="delivery-redeliver"),
]
