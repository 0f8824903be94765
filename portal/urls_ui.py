from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tenant/", views.TenantSwitchView.as_view(), name="tenant-switch"),
    path("api-tokens/", views.ApiTokenListView.as_view(), name="api-tokens"),
    path("api-tokens/new/", views.ApiTokenCreateView.as_view(), name="api-token-create"),
    path("api-tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="api-token-revoke"),
    path("members/", views.MembershipListView.as_view(), name="members"),
    path("members/new/", views.MembershipCreateView.as_view(), name="member-create"),
    path("members/<int:pk>/", views.MembershipUpdateView.as_view(), name="member-edit"),
    path("members/<int:pk>/deactivate/", views.MembershipDeactivateView.as_view(), name="member-deactivate"),
]
