from django.urls import path

from demo import views

app_name = "demo"

urlpatterns = [
    path("invoices/", views.DemoInvoicesView.as_view(), name="invoices"),
    path("invoices/send/", views.DemoInvoicesSendView.as_view(), name="invoices-send"),
    path("invoices/<str:name>", views.DemoInvoiceFileView.as_view(), name="invoice-file"),
    path("erp/", views.DemoErpView.as_view(), name="erp"),
    path("erp/hooks/", views.DemoErpHookView.as_view(), name="erp-hooks"),
]
