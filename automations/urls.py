from django.urls import path

from automations.views import playground

app_name = "automations"

urlpatterns: list = [
    path("playground/", playground.PlaygroundIndexView.as_view(), name="playground"),
    path("<slug:key>/playground/", playground.PlaygroundView.as_view(), name="playground-use-case"),
]
