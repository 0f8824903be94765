from django.urls import path
from rest_framework.routers import SimpleRouter

from portal.api import views

router = SimpleRouter()
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("api-tokens", views.ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    *router.urls,
]
