"""Tenant-related API views."""

from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tenants.selectors import membership_for
from tenants.serializers import CurrentTenantSerializer, SignupResultSerializer, SignupSerializer
from tenants.services import tenant_signup


class ApiRootView(APIView):
    """Where the API is and which workspace answered."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(
            {
                "workspace": getattr(request.tenant, "slug", None),
                "schema": connection.schema_name,
                "docs": request.build_absolute_uri("/api/docs/"),
                "openapi": request.build_absolute_uri("/api/schema/"),
            }
        )


class CurrentTenantView(APIView):
    """The workspace of this host and the caller's role in it."""

    @extend_schema(responses={200: CurrentTenantSerializer})
    def get(self, request):
        membership = membership_for(user=request.user, tenant=request.tenant)
        data = {"tenant": request.tenant, "role": membership.role if membership else None}
        return Response(CurrentTenantSerializer(data).data)


class SignupView(APIView):
    """Creates a workspace with its owner (public host). Throttled per client address."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "signup"

    @extend_schema(request=SignupSerializer, responses={201: SignupResultSerializer})
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenant_signup(**serializer.validated_data)
        domain = tenant.get_primary_domain().domain
        port = request.get_port()
        origin = f"{request.scheme}://{domain}" + (f":{port}" if port not in ("80", "443") else "")
        result = {
            "tenant": tenant,
            "domain": domain,
            "api": f"{origin}/api/v1/",
            "admin": f"{origin}/admin/",
        }
        return Response(SignupResultSerializer(result).data, status=status.HTTP_201_CREATED)
