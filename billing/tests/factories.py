"""factory-boy factories of billing's mirror rows (run them inside the tenant's schema).

They write rows directly, as if Stripe's state had already been mirrored: for tests of what
happens around a row (an event arriving before or after it, lists, the admin). Flows that talk to
Stripe go through billing.services and the Stripe stand-in.
"""

import factory

from billing.models import Customer, Payment, WebhookEvent


class CustomerFactory(factory.django.DjangoModelFactory):
    """The workspace's own customer by default; pass kind="user" and a user for a payer."""

    class Meta:
        model = Customer

    kind = Customer.Kind.TENANT
    user = None
    stripe_id = factory.Sequence(lambda n: f"cus_test{n:06d}")
    email = ""


class PaymentFactory(factory.django.DjangoModelFactory):
    """A PaymentIntent of an order (pass order=...), waiting for a payment method."""

    class Meta:
        model = Payment

    order = None
    customer = factory.SubFactory(
        CustomerFactory,
        kind=Customer.Kind.USER,
        user=factory.SelfAttribute("..order.customer"),
    )
    stripe_id = factory.Sequence(lambda n: f"pi_test{n:06d}")
    amount = 1000
    currency = "usd"
    status = Payment.Status.REQUIRES_PAYMENT_METHOD
    idempotency_key = factory.LazyAttribute(lambda o: f"test:{o.stripe_id}")


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A ledger row of a Stripe event (not queued: nothing processes it unless the test does)."""

    class Meta:
        model = WebhookEvent

    event_id = factory.Sequence(lambda n: f"evt_test{n:06d}")
    type = "invoice.created"
    object_id = factory.Sequence(lambda n: f"in_test{n:06d}")
    payload = factory.LazyAttribute(
        lambda o: {"id": o.event_id, "type": o.type, "data": {"object": {"id": o.object_id}}}
    )
    status = WebhookEvent.Status.PENDING
