"""Every operation of the tenant API answers what its OpenAPI schema documents.

Schemathesis generates requests from the served schema (valid and invalid inputs, a bounded,
seeded number per operation) and sends them through the real WSGI application on a tenant host
with a workspace owner's Bearer token. Each response must match the schema: a documented status
code, the documented content type and a body that validates against the documented schema (the
one error shape included). Server errors are the server-error fuzz test's concern and are left
to it here.
"""

import contextlib

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Bounded and seeded: the same cases every run, the whole test in about two minutes.
MAX_EXAMPLES = 4
SEED = 1729
HOST = "alpha.localhost"

CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    }
)


@pytest.fixture
def owner(tenant_a, make_user):
    return make_user(email="conformance-owner@example.com", tenant=tenant_a, role="owner")


CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _violations(operation, mode: GenerationMode, headers: dict) -> list[str]:
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(base_url=f"http://{HOST}", headers=headers)
        if response.status_code >= 500:
            return
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                found.append(
                    f"{operation.label} [{mode.value}] {response.status_code}: "
                    f"{failure.title}: {str(failure.message)[:300]}"
                )

    # Unsatisfiable: nothing to make invalid (an operation without parameters or body).
    with contextlib.suppress(Unsatisfiable):
        run()
    return found


class _TestWSGIApp(WSGIHandler):
    """Requests run inside the test's transaction, as with Django's test client (which keeps
    the connection open the same way)."""

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = super().__call__(environ, start_response)
            response.close()
            return response
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_every_response_matches_the_schema(client_a, tenant_a, owner):
    from accounts.tokens import tokens_for_user

    document = client_a.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    schema.app = _TestWSGIApp()
    violations: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    for operation in operations:
        # A fresh token per operation: signing out or revoking sessions is among the operations.
        access = tokens_for_user(user=owner, tenant=tenant_a)["access"]
        headers = {"Authorization": f"Bearer {access}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            violations += _violations(operation, mode, headers)
    unique = sorted(set(violations))
    assert not unique, f"{len(unique)} schema violations:\n" + "\n".join(unique)


@pytest.mark.django_db
def test_every_operation_documents_its_errors_in_the_one_shape_and_an_app_tag(client_a):
    document = client_a.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    apps = {"accounts", "rbac", "catalog", "orders", "uploads", "chat", "presence", "billing"}
    apps |= {"notifications", "tenants"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("403", "404"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"400", "409"} <= responses.keys(), (method, path)
            assert len(operation["tags"]) == 1 and operation["tags"][0] in apps, (method, path)


@pytest.mark.django_db
def test_lists_document_their_pagination_wrapper(client_a):
    document = client_a.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemas = document["components"]["schemas"]
    for path in ("/api/v1/chat/rooms/", "/api/v1/files/", "/api/v1/catalog/products/"):
        ref = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        wrapper = schemas[ref["schema"]["$ref"].rsplit("/", 1)[1]]
        assert {"next", "previous", "results"} <= wrapper["properties"].keys(), path
        assert wrapper["properties"]["next"]["nullable"] is True
