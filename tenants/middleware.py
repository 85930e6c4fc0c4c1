"""Tenant resolution from the Host header, for HTTP requests and websocket connections."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.db import close_old_connections, connection
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware as BaseTenantMainMiddleware
from django_tenants.utils import remove_www

from core.errors import error_response
from tenants.resolution import tenant_for_host


class TenantMainMiddleware(BaseTenantMainMiddleware):
    """django-tenants' middleware with JSON answers for unknown and suspended tenants, resolving
    the host through the per-process memo (tenants.resolution)."""

    def get_tenant(self, domain_model, hostname):
        tenant = tenant_for_host(hostname)
        if tenant is None:
            raise domain_model.DoesNotExist(hostname)
        return tenant

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = request.tenant
        if not tenant.is_active and tenant.schema_name != "public":
            if "text/html" in request.headers.get("Accept", ""):
                return render(request, "tenants/suspended.html", {"tenant": tenant}, status=403)
            return error_response(
                "tenant_suspended", f'The workspace "{tenant.slug}" is suspended.', 403
            )
        return None

    def no_tenant_found(self, request, hostname):
        return error_response("tenant_not_found", f'No workspace is served at "{hostname}".', 404)


def hostname_from_scope(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return remove_www(value.decode("latin-1").split(":")[0].lower())
    return ""


def _tenant_for_host(hostname: str):
    close_old_connections()
    connection.set_schema_to_public()
    return tenant_for_host(hostname)


class TenantWebsocketMiddleware:
    """Puts the Host header's tenant in scope["tenant"]; unknown or suspended hosts are refused.

    Consumers run their database work through tenants.db.tenant_sync_to_async(schema, ...)
    so every query runs in that tenant's schema.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        tenant = await database_sync_to_async(_tenant_for_host)(hostname_from_scope(scope))
        if tenant is None or not tenant.is_active:
            # Refuse the handshake: the ASGI server answers 403 and the consumer never runs.
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4404})
            return None
        scope = dict(scope, tenant=tenant, query=parse_qs(scope.get("query_string", b"").decode()))
        return await self.app(scope, receive, send)


class WebsocketOriginValidator(OriginValidator):
    """Browsers must connect from an allowed host; clients that send no Origin (apps, services)
    are allowed because websocket authentication is a JWT, never an ambient cookie."""

    def __init__(self, application):
        super().__init__(application, settings.ALLOWED_HOSTS)

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)
