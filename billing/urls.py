"""REST routes of the billing app, mounted by config.urls_tenant under /api/v1/billing/."""

from django.urls import path

from billing import views

urlpatterns = [
    path("webhooks/stripe/", views.stripe_webhook, name="billing-stripe-webhook"),
    path("plans/", views.PlanListView.as_view(), name="billing-plans"),
    path("subscription/", views.SubscriptionView.as_view(), name="billing-subscription"),
    path(
        "subscription/change/",
        views.SubscriptionChangeView.as_view(),
        name="billing-subscription-change",
    ),
    path(
        "subscription/cancel/",
        views.SubscriptionCancelView.as_view(),
        name="billing-subscription-cancel",
    ),
    path(
        "subscription/resume/",
        views.SubscriptionResumeView.as_view(),
        name="billing-subscription-resume",
    ),
]
