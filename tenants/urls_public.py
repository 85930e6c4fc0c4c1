"""Public-host routes of the tenants app, mounted at /api/v1/."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="public-api-root"),
]
