"""Tenant-related API views."""

from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.selectors import membership_for
from tenants.serializers import CurrentTenantSerializer


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
