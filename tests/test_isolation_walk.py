"""Tenant isolation over every REST route: walks the tenant URL conf, so new routes are covered
without being listed here.

1. A token issued on tenant A is refused (401) on tenant B's host for every authenticated route
   and method.
2. Tenant B's owner, on B's host, never sees A's rows: list responses contain none of the strings
   that exist only in A, and A's object ids answer 404 (or 403) on B's detail routes.
"""

import importlib
import re
import uuid

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")
MARKER_FIELDS = {"name", "sku", "title", "original_name", "description", "body", "slug"}


def _routes():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver(settings.ROOT_URLCONF).url_patterns):
        if not route.startswith("api/v1/") or "format" in route:
            continue
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view_class is None:
            continue
        actions = getattr(callback, "actions", None)
        if actions:
            methods = sorted(actions)
        else:
            methods = [
                m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)
            ]
        yield route.replace("^", "").replace("$", ""), view_class, methods, actions or {}


ROUTES = list(_routes())


def _url(route: str, value: str) -> str:
    def fill(match):
        if match.group("conv") == "uuid" and not _is_uuid(value):
            return str(uuid.uuid4())
        return value

    return "/" + PARAM.sub(fill, route)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _params(route: str) -> list[str]:
    return [m.group("name") or m.group("rname") for m in PARAM.finditer(route)]


def _is_public(view_class) -> bool:
    """Views that take no JWT: AllowAny DRF views and plain Django views (signed-link pages)."""
    if not issubclass(view_class, APIView):
        return True
    return any(p is AllowAny for p in getattr(view_class, "permission_classes", []))


def _seed(tenant, owner) -> None:
    for app in settings.TENANT_APPS:
        if "." in app:
            continue
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        with schema_context(tenant.schema_name):
            module.seed(tenant=tenant, owner=owner)


def _tenant_models():
    shared = {app.rsplit(".", 1)[-1] for app in settings.SHARED_APPS}
    tenant_labels = {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS} - shared
    return [m for m in apps.get_models() if m._meta.app_label in tenant_labels]


def _strings(schema: str) -> set[str]:
    found = set()
    with schema_context(schema):
        for model in _tenant_models():
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, (models.CharField, models.TextField)) and f.name in MARKER_FIELDS
            ]
            for field in fields:
                for value in model._default_manager.values_list(field, flat=True)[:500]:
                    if value and len(str(value)) >= 6:
                        found.add(str(value))
    return found


@pytest.fixture
def seeded(tenant_a, tenant_b, make_user):
    owner_a = make_user(email="owner-a@example.com", tenant=tenant_a, role="owner")
    owner_b = make_user(email="owner-b@example.com", tenant=tenant_b, role="owner")
    _seed(tenant_a, owner_a)
    only_a = _strings(tenant_a.schema_name) - _strings(tenant_b.schema_name)
    return owner_a, owner_b, only_a


def test_the_walk_covers_the_platform_routes():
    routes = {route for route, *_ in ROUTES}
    assert len(routes) > 20
    assert any(route.startswith("api/v1/catalog/") for route in routes)


@pytest.mark.django_db
def test_a_token_of_tenant_a_is_refused_on_every_route_of_tenant_b(
    seeded, tenant_a, tenant_b, auth_client
):
    owner_a, _, _ = seeded
    client = auth_client(owner_a, tenant_a)
    client.defaults["HTTP_HOST"] = tenant_b.get_primary_domain().domain
    leaks = []
    for route, view_class, methods, _ in ROUTES:
        if _is_public(view_class):
            continue
        url = _url(route, "1")
        for method in methods:
            response = getattr(client, method)(url, {}, format="json")
            if response.status_code != 401:
                leaks.append(f"{method.upper()} {url} -> {response.status_code}")
    assert leaks == []


@pytest.mark.django_db
def test_tenant_b_never_sees_rows_of_tenant_a(seeded, tenant_a, tenant_b, auth_client):
    _, owner_b, only_a = seeded
    assert only_a, "the demo seeds wrote nothing distinctive into tenant A"
    client = auth_client(owner_b, tenant_b)
    leaks, checked = [], 0
    for route, view_class, methods, actions in ROUTES:
        if "get" not in methods:
            continue
        params = _params(route)
        if not params:
            response = client.get(_url(route, ""))
            checked += 1
            body = response.content.decode(errors="replace")
            leaks += [f"GET /{route} shows {s!r}" for s in only_a if s in body]
            continue
        model = getattr(getattr(view_class, "queryset", None), "model", None)
        if model is None or params != ["pk"]:
            continue
        with schema_context(tenant_a.schema_name):
            ids_a = set(model._default_manager.values_list("pk", flat=True)[:20])
        with schema_context(tenant_b.schema_name):
            ids_b = set(model._default_manager.filter(pk__in=ids_a).values_list("pk", flat=True))
        for pk in ids_a - ids_b:
            response = client.get(_url(route, str(pk)))
            checked += 1
            if response.status_code not in (403, 404):
                leaks.append(f"GET {_url(route, str(pk))} -> {response.status_code}")
    assert checked > 10
    assert leaks == []


@pytest.mark.django_db
def test_unknown_object_ids_get_a_json_404(seeded, tenant_b, auth_client):
    _, owner_b, _ = seeded
    client = auth_client(owner_b, tenant_b)
    for route, view_class, methods, actions in ROUTES:
        if actions.get("get") != "retrieve":
            continue
        response = client.get(_url(route, str(uuid.uuid4())))
        assert response.status_code in (404, 400), route
        assert "error" in response.json(), route


async def _ws_outcome(port: int, host: str, path: str, token: str, *, header: bool) -> str:
    """How a websocket route answers a token: in the handshake header or in a first frame."""
    import asyncio
    import json

    import websockets

    try:
        async with websockets.connect(
            f"ws://{host}:{port}/{path}",
            host="127.0.0.1",
            port=port,
            subprotocols=["bearer", token] if header else None,
            open_timeout=10,
        ) as ws:
            if not header:
                await ws.send(json.dumps({"type": "auth", "token": token}))
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame.get("type") == "ready":
                return "accepted"
            return f"error:{frame.get('code')}"
    except websockets.InvalidStatus as exc:
        return f"refused:{exc.response.status_code}"
    except websockets.ConnectionClosed as exc:
        return f"closed:{exc.rcvd.code if exc.rcvd else None}"


@pytest.mark.slow
def test_a_token_of_tenant_a_opens_no_websocket_on_tenant_b(committed, password, django_db_blocker):
    """Every authenticated websocket route refuses tenant A's token on tenant B's host, whether
    the token comes in the handshake or in the first frame (and accepts it on A's own host)."""
    import asyncio

    from django.utils import timezone

    from accounts.models import Session, User
    from accounts.tokens import tokens_for_user
    from config.routing import websocket_urlpatterns
    from tenants.models import Membership, Tenant
    from tests.live import uvicorn_server

    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(slug="alpha")
    user = committed(
        lambda: User.objects.create_user(
            email="ws-walker@example.com", password=password, email_verified_at=timezone.now()
        )
    )
    committed(lambda: Membership.objects.create(user=user, tenant=alpha, role="owner"))
    tokens = {}

    def session():
        tokens.update(tokens_for_user(user=user, tenant=alpha))
        return Session.objects.get(user=user)

    committed(session)
    routes = [str(p.pattern) for p in websocket_urlpatterns if "health" not in str(p.pattern)]
    assert routes, "no authenticated websocket route to walk"
    outcomes = {}
    with uvicorn_server() as port:
        for route in routes:
            for header in (True, False):
                for host in ("alpha.localhost", "beta.localhost"):
                    outcomes[(route, header, host)] = asyncio.run(
                        _ws_outcome(port, host, route, tokens["access"], header=header)
                    )
    for route in routes:
        for header in (True, False):
            assert outcomes[(route, header, "alpha.localhost")] == "accepted", outcomes
            assert outcomes[(route, header, "beta.localhost")] != "accepted", outcomes
