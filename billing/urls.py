"""REST routes of the billing app, mounted by config.urls_tenant under /api/v1/billing/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from billing import views

router = SimpleRouter(use_regex_path=False)
router.register("payments", views.PaymentViewSet, basename="billing-payment")

urlpatterns = [
    path("orders/<int:order_id>/payment/", views.OrderPaymentView.as_view(), name="billing-pay"),
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
    path("invoices/", views.InvoiceListView.as_view(), name="billing-invoices"),
    path("payment-methods/", views.PaymentMethodListView.as_view(), name="billing-payment-methods"),
    path(
        "payment-methods/setup/",
        views.SetupIntentView.as_view(),
        name="billing-payment-method-setup",
    ),
    path(
        "payment-methods/<str:stripe_id>/",
        views.PaymentMethodDetailView.as_view(),
        name="billing-payment-method",
    ),
    path(
        "payment-methods/<str:stripe_id>/default/",
        views.PaymentMethodDefaultView.as_view(),
        name="billing-payment-method-default",
    ),
    *router.urls,
]
