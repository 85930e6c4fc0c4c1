"""Routes of this app on the public host, mounted by config.urls_public under
/api/v1/notifications/: the provider tracking webhooks and unsubscribe links of emails sent from
the public schema."""

from django.urls import include, path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    # Anymail's views: e.g. mailgun/tracking/, postmark/tracking/, sendgrid/tracking/.
    path("webhooks/", include("anymail.urls")),
]
