"""REST routes of this app, mounted by config.urls_tenant under /api/v1/auth/."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("verify-email/", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    path(
        "verify-email/resend/",
        views.ResendVerificationView.as_view(),
        name="auth-verify-email-resend",
    ),
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("login/mfa/", views.LoginMfaView.as_view(), name="auth-login-mfa"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("sessions/", views.SessionListView.as_view(), name="auth-sessions"),
    path(
        "sessions/<uuid:session_id>/",
        views.SessionDetailView.as_view(),
        name="auth-session-detail",
    ),
    path("password/forgot/", views.PasswordForgotView.as_view(), name="auth-password-forgot"),
    path("password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("mfa/totp/enroll/", views.TotpEnrollView.as_view(), name="auth-mfa-enroll"),
    path("mfa/totp/confirm/", views.TotpConfirmView.as_view(), name="auth-mfa-confirm"),
    path("mfa/recovery-codes/", views.RecoveryCodesView.as_view(), name="auth-mfa-recovery-codes"),
    path("mfa/disable/", views.MfaDisableView.as_view(), name="auth-mfa-disable"),
    path("me/", views.MeView.as_view(), name="auth-me"),
]
