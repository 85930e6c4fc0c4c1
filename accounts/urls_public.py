"""Public-host routes of the accounts app, mounted at /api/v1/: workspace sign-up."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("tenants/", views.SignupView.as_view(), name="tenant-signup"),
]
