"""Routes of the billing app on the public host (one Stripe endpoint for every workspace)."""

from django.urls import path

from billing import views

urlpatterns = [
    path("webhooks/stripe/", views.stripe_webhook, name="billing-stripe-webhook-public"),
]
