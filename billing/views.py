"""HTTP side of billing: the Stripe webhook endpoint and the workspace's subscription API."""

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
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.serializers import (
    PlanListSerializer,
    SubscriptionCancelSerializer,
    SubscriptionChangeSerializer,
    SubscriptionSerializer,
    SubscriptionStartSerializer,
    SubscriptionStateSerializer,
)
from config.errors import error_response
from rbac.permissions import HasRBACPermission

logger = logging.getLogger(__name__)


def _known_schema(schema: str) -> bool:
    from tenants.models import Tenant

    return Tenant.objects.filter(schema_name=schema).exclude(schema_name="public").exists()


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

    named = services.event_tenant(event)
    here = connection.schema_name
    if here == get_public_schema_name():
        if not named or not _known_schema(named):
            # Not ours (created outside the platform): acknowledged so Stripe stops sending it.
            logger.info("Stripe event %s names no workspace; ignored", event["id"])
            return JsonResponse({"received": True, "stored": False})
        with schema_context(named):
            _, created = services.webhook_event_record(event=event)
    elif named and named != here:
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
            "limit": selectors.plan_limit(tenant, name),
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
