"""URLs served on tenant hosts (<slug>.localhost): the tenant's API, admin and docs."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.pages import ResetPasswordPage, VerifyEmailPage
from config.health import healthz, readyz

api_v1 = [
    path("", include("tenants.urls")),
    path("auth/", include("accounts.urls")),
    path("rbac/", include("rbac.urls")),
    path("catalog/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("files/", include("uploads.urls")),
    path("chat/", include("chat.urls")),
    path("presence/", include("presence.urls")),
    path("billing/", include("billing.urls")),
    path("notifications/", include("notifications.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Pages the emailed links open when the workspace has no single-page app of its own.
    path(settings.ACCOUNTS["VERIFY_EMAIL_PATH"].strip("/"), VerifyEmailPage.as_view()),
    path(settings.ACCOUNTS["RESET_PASSWORD_PATH"].strip("/"), ResetPasswordPage.as_view()),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

if settings.BENCH_BASELINE_VIEWS:
    from config import baseline

    urlpatterns += [
        path("bench/bare", baseline.bare),
        path("bench/one-query", baseline.one_query),
    ]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
