"""Public-host routes of the tenants app, mounted at /api/v1/ (tenant sign-up comes here)."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="public-api-root"),
    path("tenants/", views.SignupView.as_view(), name="tenant-signup"),
]
