"""Public-host routes of the accounts app at /api/v1/: workspace sign-up and its confirmation."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("tenants/", views.SignupView.as_view(), name="tenant-signup"),
    path("tenants/confirm/", views.SignupConfirmView.as_view(), name="tenant-signup-confirm"),
]
