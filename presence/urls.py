"""REST routes of presence, mounted by config.urls_tenant under /api/v1/presence/."""

from django.urls import path

from presence import views

urlpatterns = [
    path("query/", views.PresenceQueryView.as_view(), name="presence-query"),
    path("me/", views.MyPresenceView.as_view(), name="presence-me"),
]
