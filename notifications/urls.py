"""REST routes of this app, mounted by config.urls_tenant under /api/v1/notifications/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications import views

app_name = "notifications"

router = SimpleRouter(use_regex_path=False)
router.register("", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    *router.urls,
]
