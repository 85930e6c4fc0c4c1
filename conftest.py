"""Test fixtures shared by every app: two committed tenants, tenant-bound API clients, users."""

from pathlib import Path

import pytest

# WhiteNoise warns when STATIC_ROOT is missing; `make run` and the Docker build create it.
(Path(__file__).resolve().parent / ".data" / "static").mkdir(parents=True, exist_ok=True)

TENANT_A = {"slug": "alpha", "name": "Alpha Corp", "domain": "alpha.localhost"}
TENANT_B = {"slug": "beta", "name": "Beta Inc", "domain": "beta.localhost"}


@pytest.fixture(scope="session", autouse=True)
def _mongodb(tmp_path_factory):
    """A real MongoDB-compatible server for the session: with MONGODB_URL unset, the embedded
    one (secantusdb) on a free port with its files in a temporary directory, stopped at the end.
    Database names get a prefix unique to this session, so nothing leaks between runs."""
    import os
    import secrets
    import socket

    from django.conf import settings
    from django.test import override_settings

    from core import mongo, mongo_server

    process = None
    url = os.environ.get("MONGODB_URL", "")
    if not url:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        storage = tmp_path_factory.mktemp("mongodb")
        log = (storage / "server.log").open("w")
        process = mongo_server.start(port=port, storage=storage / "data", log=log)
        url = f"mongodb://127.0.0.1:{port}"
    prefix = f"{settings.MONGODB_DB_PREFIX}t{secrets.token_hex(3)}_"
    # Processes the tests start (uvicorn, celery, relays) read these.
    os.environ["MONGODB_URL"], os.environ["MONGODB_DB_PREFIX"] = url, prefix
    with override_settings(MONGODB_URL=url, MONGODB_DB_PREFIX=prefix):
        mongo.reset()
        yield url
        client = mongo.client()
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
        mongo.reset()
    if process is not None:
        mongo_server.stop(process)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, _mongodb):
    """Creates the test database (always, even when only live-process tests run), then the public
    tenant and two tenants, committed.

    Tenant schemas are expensive to migrate, so they are made once per session and shared; tests
    write inside a transaction that is rolled back, so the tenants stay clean between tests.
    """
    from django.test.utils import setup_databases, teardown_databases

    from accounts.services import tenant_create
    from tenants.services import public_tenant_ensure

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        public_tenant_ensure(domain="localhost")
        for spec in (TENANT_A, TENANT_B):
            tenant_create(**spec, verbosity=0)
    yield
    with django_db_blocker.unblock():
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(autouse=True)
def _public_schema_and_clean_cache():
    """Every test starts on the public schema with an empty cache (throttles, lockouts)."""
    from django.core.cache import cache
    from django.db import connection

    cache.clear()
    yield
    cache.clear()
    connection.set_schema_to_public()


@pytest.fixture
def tenant_a(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug=TENANT_A["slug"])


@pytest.fixture
def tenant_b(db):
    from tenants.models import Tenant

    return Tenant.objects.get(slug=TENANT_B["slug"])


@pytest.fixture
def in_a(tenant_a):
    """The test body runs on tenant A's schema (connection.tenant is tenant A): direct ORM and
    service calls; API clients switch by host themselves."""
    from django.db import connection

    connection.set_tenant(tenant_a)
    yield tenant_a
    connection.set_schema_to_public()


@pytest.fixture
def in_b(tenant_b):
    """Like in_a, on tenant B's schema."""
    from django.db import connection

    connection.set_tenant(tenant_b)
    yield tenant_b
    connection.set_schema_to_public()


@pytest.fixture
def public_tenant(db):
    from tenants.models import Tenant

    return Tenant.objects.get(schema_name="public")


def _client(host: str):
    from rest_framework.test import APIClient

    return APIClient(HTTP_HOST=host)


@pytest.fixture
def client_a(tenant_a):
    return _client(TENANT_A["domain"])


@pytest.fixture
def client_b(tenant_b):
    return _client(TENANT_B["domain"])


@pytest.fixture
def public_client(public_tenant):
    return _client("localhost")


@pytest.fixture
def password():
    return "Correct-Horse-42-battery"


@pytest.fixture
def make_user(db, password):
    """make_user(email=..., tenant=..., role=...) -> a verified user, member of the tenant."""
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import membership_set

    counter = {"n": 0}

    def make(*, email: str | None = None, tenant=None, role: str = "member", **fields):
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.com"
        fields.setdefault("email_verified_at", timezone.now())
        user = User.objects.create_user(email=email, password=password, **fields)
        if tenant is not None:
            membership_set(user=user, tenant=tenant, role=role)
        return user

    return make


@pytest.fixture
def auth_client():
    """auth_client(user, tenant) -> an API client on the tenant's host with a Bearer token."""
    from accounts.tokens import tokens_for_user

    def make(user, tenant):
        client = _client(tenant.get_primary_domain().domain)
        access = tokens_for_user(user=user, tenant=tenant)["access"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return make


@pytest.fixture
def admin_login():
    """admin_login(client, user, *hosts) signs a Django test client in to the admin of each host
    (default: the client's own) as the admin login does: a Django session bound to an accounts
    Session per workspace, so revoking that Session signs the admin out."""
    from accounts.admin_site import bind_session
    from accounts.services import session_start
    from tenants.models import Domain

    def login(client, user, *hosts):
        client.force_login(user)
        session = client.session
        for host in hosts or (client.defaults.get("HTTP_HOST", "localhost"),):
            tenant = Domain.objects.select_related("tenant").get(domain=host).tenant
            started, _ = session_start(user=user, tenant=tenant)
            bind_session(session, schema_name=tenant.schema_name, session_id=started.pk)
        session.save()
        return client

    return login


@pytest.fixture(scope="session", autouse=True)
def _uploads_in_a_temporary_directory(tmp_path_factory):
    """Files stored by any test (demo seeding included) go to a temporary directory."""
    from django.conf import settings
    from django.test import override_settings

    location = tmp_path_factory.mktemp("uploads")
    uploads = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(location), "allow_overwrite": True},
    }
    with override_settings(STORAGES={**settings.STORAGES, "uploads": uploads}):
        yield


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """committed(fn) runs fn outside the test transaction (visible to uvicorn/celery processes)
    and returns its result; every object created this way is deleted after the test.

    Only for tests without the `db` fixture (and fixtures that use it): inside the test
    transaction the rows would stay invisible to other processes."""
    created = []

    def run(fn):
        with django_db_blocker.unblock():
            obj = fn()
        created.append(obj)
        return obj

    yield run
    with django_db_blocker.unblock():
        for obj in reversed(created):
            # A raw delete: the ORM's cascade would look for tenant tables (e.g. guardian's)
            # from the public schema. Rows of these tests live in public tables only.
            rows = type(obj).objects.filter(pk=obj.pk)
            rows._raw_delete(rows.db)


@pytest.fixture
def celery_eager():
    """Celery tasks run in-process when queued (e.g. emails sent by notifications.send_email
    land in django.core.mail.outbox as soon as the on_commit callbacks run)."""
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def plan_limits(settings):
    """plan_limits("free", storage_bytes=100): overrides limits of one plan for this test."""
    import copy

    def override(plan: str, **limits):
        plans = copy.deepcopy(settings.PLANS)
        plans[plan]["limits"].update(limits)
        settings.PLANS = plans

    return override
