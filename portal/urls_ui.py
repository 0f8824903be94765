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
    path("account/two-factor/", views.TwoFactorView.as_view(), name="two-factor"),
    path("account/two-factor/setup/", views.TwoFactorSetupView.as_view(), name="two-factor-setup"),
    path("account/two-factor/verify/", views.TwoFactorVerifyView.as_view(), name="two-factor-verify"),
    path("account/two-factor/recovery-codes/", views.RecoveryCodesCreateView.as_view(),
         name="two-factor-recovery-codes"),
    path("security/logins/", views.LoginSecurityView.as_view(), name="login-security"),
    path("security/logins/unlock/", views.LoginUnlockView.as_view(), name="login-unlock"),
    path("security/logins/<int:pk>/reset-second-factor/", views.SecondFactorResetView.as_view(),
         name="second-factor-reset"),
]
