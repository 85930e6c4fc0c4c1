"""HTTP side of billing: the Stripe webhook endpoint, the workspace's subscription and order
payments."""

import json
import logging

import stripe
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import get_public_schema_name, schema_context
from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.errors import GatewayRejected
from billing.models import Payment
from billing.permissions import PaymentPermission
from billing.serializers import (
    InvoiceSerializer,
    PaymentConfirmSerializer,
    PaymentCreatedSerializer,
    PaymentMethodSerializer,
    PaymentSerializer,
    PlanListSerializer,
    RefundCreateSerializer,
    RefundSerializer,
    SetupIntentCreateSerializer,
    SetupIntentSerializer,
    SubscriptionCancelSerializer,
    SubscriptionChangeSerializer,
    SubscriptionSerializer,
    SubscriptionStartSerializer,
    SubscriptionStateSerializer,
)
from core.errors import DomainError, NotFound, error_response
from core.pagination import cursor_pagination
from rbac.permissions import HasRBACPermission
from tenants.plans import plan_limit

logger = logging.getLogger(__name__)


@extend_schema(exclude=True)
@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Verifies Stripe's signature, stores the event once in the ledger, answers 200 fast.

    On a workspace host the event goes to that workspace's ledger; on the public host (one
    endpoint for the whole platform) it goes to the workspace named in its object's metadata.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return error_response("billing_not_configured", "Webhooks are not configured.", 503)
    signature = request.headers.get("Stripe-Signature", "")
    if not signature:
        return error_response("invalid_signature", "The Stripe-Signature header is missing.", 400)
    try:
        payload = request.body.decode("utf-8")
        stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
        )
        event = json.loads(payload)
    except (ValueError, TypeError, AttributeError):  # not JSON, or JSON but not an event
        return error_response("invalid_payload", "The payload is not a Stripe event.", 400)
    except stripe.SignatureVerificationError:
        return error_response("invalid_signature", "The signature could not be verified.", 400)
    if not isinstance(event, dict) or not event.get("id"):
        return error_response("invalid_payload", "The payload is not a Stripe event.", 400)

    here = connection.schema_name
    if here == get_public_schema_name():
        try:
            named = services.event_tenant_resolve(event)
        except GatewayRejected:  # what it refers to is not on this account: not ours
            named = None
        except DomainError:  # Stripe unreachable: answering 5xx makes Stripe deliver it again
            return error_response("payment_gateway_unavailable", "Try again later.", 503)
        if not named or not selectors.is_workspace_schema(named):
            # Not ours (created outside the platform): acknowledged so Stripe stops sending it.
            logger.info("Stripe event %s names no workspace; ignored", event["id"])
            return JsonResponse({"received": True, "stored": False})
        with schema_context(named):
            _, created = services.webhook_event_record(event=event)
    elif (named := services.event_tenant(event)) and named != here:
        return JsonResponse({"received": True, "stored": False})
    else:
        _, created = services.webhook_event_record(event=event)
    return JsonResponse({"received": True, "stored": True, "duplicate": not created})


class PlanListView(APIView):
    """The plans a workspace can be on, with their limits."""

    @extend_schema(responses=PlanListSerializer)
    def get(self, request):
        return Response({"results": selectors.plans()})


def _subscription_body(request, subscription) -> dict:
    tenant = request.tenant
    limits = {
        name: {
            "limit": plan_limit(tenant, name),
            "used": selectors.plan_usage(tenant, name),
        }
        for name in ("members", "storage_bytes")
    }
    return {
        "plan": selectors.plan_code_for(subscription=subscription, assigned=tenant.plan),
        "subscription": SubscriptionSerializer(subscription).data if subscription else None,
        "limits": limits,
    }


class SubscriptionView(APIView):
    """GET the workspace's plan, subscription and limits; POST subscribes to a plan."""

    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"

    @extend_schema(responses=SubscriptionStateSerializer)
    def get(self, request):
        return Response(_subscription_body(request, selectors.current_subscription()))

    @extend_schema(
        request=SubscriptionStartSerializer, responses={201: SubscriptionStateSerializer}
    )
    def post(self, request):
        serializer = SubscriptionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_start(
            tenant=request.tenant, email=request.user.email, **serializer.validated_data
        )
        return Response(_subscription_body(request, subscription), status=201)


class SubscriptionChangeView(APIView):
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"
    rbac_actions = {"post": "update"}

    @extend_schema(request=SubscriptionChangeSerializer, responses=SubscriptionStateSerializer)
    def post(self, request):
        serializer = SubscriptionChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_change_plan(**serializer.validated_data)
        return Response(_subscription_body(request, subscription))


class SubscriptionCancelView(APIView):
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"
    rbac_actions = {"post": "cancel"}

    @extend_schema(request=SubscriptionCancelSerializer, responses=SubscriptionStateSerializer)
    def post(self, request):
        serializer = SubscriptionCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_cancel(**serializer.validated_data)
        return Response(_subscription_body(request, subscription))


class SubscriptionResumeView(APIView):
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"
    rbac_actions = {"post": "update"}

    @extend_schema(request=None, responses=SubscriptionStateSerializer)
    def post(self, request):
        subscription = services.subscription_resume()
        return Response(_subscription_body(request, subscription))


# --- Order payments -------------------------------------------------------------------------
class OrderPaymentView(APIView):
    """POST: a PaymentIntent for one of the caller's orders (amount from the server's total);
    answers the payment and the client secret for Stripe.js."""

    @extend_schema(request=None, responses={201: PaymentCreatedSerializer})
    def post(self, request, order_id: int):
        order = selectors.order_payable_by(user=request.user, order_id=order_id)
        if order is None:
            raise NotFound("No such order.")
        payment, client_secret = services.payment_for_order(order=order)
        body = PaymentSerializer(payment).data
        return Response({**body, "client_secret": client_secret}, status=201)


class PaymentViewSet(viewsets.ReadOnlyModelViewSet):
    """Payments the caller made (all of them with billing.payment:read); confirm, cancel and
    refund (billing.payment:refund)."""

    lookup_value_converter = "int"
    serializer_class = PaymentSerializer
    pagination_class = cursor_pagination(("-created_at", "-id"), name="PaymentPagination")
    permission_classes = [PaymentPermission]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return selectors.payments_visible_to(self.request.user)

    @extend_schema(request=PaymentConfirmSerializer, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        payment = self.get_object()
        serializer = PaymentConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.payment_confirm(payment=payment, **serializer.validated_data)
        return Response(PaymentSerializer(payment).data)

    @extend_schema(request=None, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        payment = self.get_object()
        return Response(PaymentSerializer(services.payment_cancel(payment=payment)).data)

    @extend_schema(request=RefundCreateSerializer, responses={201: RefundSerializer})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        payment = self.get_object()
        serializer = RefundCreateSerializer(data=request.data, context={"payment": payment})
        serializer.is_valid(raise_exception=True)
        refund = services.refund_create(
            payment=payment, actor=request.user, **serializer.validated_data
        )
        return Response(RefundSerializer(refund).data, status=201)


# --- The workspace's cards and invoices ------------------------------------------------------
class PaymentMethodListView(generics.ListAPIView):
    """The workspace's cards (brand, last four digits, which one is the default)."""

    serializer_class = PaymentMethodSerializer
    pagination_class = cursor_pagination(("-created_at", "-id"), name="PaymentMethodPagination")
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"

    def get_queryset(self):
        return selectors.payment_methods()


class SetupIntentView(APIView):
    """POST: a SetupIntent to add a card; once it succeeds the card becomes the default."""

    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"
    rbac_actions = {"post": "update"}

    @extend_schema(request=SetupIntentCreateSerializer, responses={201: SetupIntentSerializer})
    def post(self, request):
        serializer = SetupIntentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        intent = services.setup_intent_create(
            tenant=request.tenant, email=request.user.email, **serializer.validated_data
        )
        return Response(SetupIntentSerializer(intent).data, status=201)


class PaymentMethodDefaultView(APIView):
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"
    rbac_actions = {"post": "update"}

    @extend_schema(request=None, responses=PaymentMethodSerializer)
    def post(self, request, stripe_id: str):
        method = services.payment_method_set_default(stripe_id=stripe_id)
        return Response(PaymentMethodSerializer(method).data)


class PaymentMethodDetailView(APIView):
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"
    rbac_actions = {"delete": "update"}

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, stripe_id: str):
        services.payment_method_detach(stripe_id=stripe_id)
        return Response(status=204)


class InvoiceListView(generics.ListAPIView):
    """The workspace's subscription invoices, newest first."""

    serializer_class = InvoiceSerializer
    pagination_class = cursor_pagination(("-stripe_created", "-id"), name="InvoicePagination")
    permission_classes = [HasRBACPermission]
    rbac_resource = "billing.subscription"

    def get_queryset(self):
        return selectors.invoices()
