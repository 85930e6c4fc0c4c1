"""Schemathesis over every operation of the served OpenAPI schemas (a workspace host and the
public host), DEBUG off, as a workspace owner: valid and invalid requests, a fixed seed and a
bounded number of examples per operation. Any 5xx fails the test, with the request that made it.
"""

from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

EXAMPLES_PER_OPERATION = 10
SEED = 20261202


def _server_errors(schema_json: dict, host: str, headers) -> tuple[list[str], int, int]:
    """(the requests answered with a 5xx, operations run, operations that answered a 2xx)."""
    schema = schemathesis.openapi.from_dict(schema_json)
    schema.app = WSGIHandler()
    base_url = f"http://{host}"
    failures: list[str] = []
    operations = 0
    answered = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @seed(SEED)
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=strategy)
        def run(case):
            # Each example in a savepoint rolled back: examples start from the same data and a
            # failed query cannot poison the ones after it.
            # A fresh session each time: logout and password change end the one they run in.
            with transaction.atomic():
                response = case.call(base_url=base_url, headers=headers())
                transaction.set_rollback(True)
            if response.status_code < 300:
                answered.add(operation.label)
            # 501 is the answer by design of direct (S3 multipart) uploads when no bucket is
            # configured, as in the tests; every other 5xx is a failure.
            if response.status_code >= 500 and response.status_code != 501:
                failures.append(
                    f"{response.status_code} {case.method} {case.formatted_path} "
                    f"query={case.query!r} body={case.body!r}"[:600]
                )

        with _in_the_test_transaction():
            run()
    return failures, operations, len(answered)


@pytest.fixture
def no_debug(settings):
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    return settings


@pytest.fixture
def stripe_standin(settings):
    """Billing configured against the local Stripe stand-in, so its operations run for real
    (without keys they answer 503 billing_not_configured by design)."""
    from config.standins.stripe import stripe_stub

    with stripe_stub() as stub:
        settings.STRIPE_SECRET_KEY = "sk_test_fuzz"
        settings.STRIPE_WEBHOOK_SECRET = "whsec_fuzz"
        settings.STRIPE_API_BASE = stub.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield stub


@contextmanager
def _in_the_test_transaction():
    """Requests served in the test's transaction, as Django's test client serves them: the end
    of a request would otherwise hand the connection back."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_no_operation_of_a_workspace_host_answers_a_server_error(
    no_debug, stripe_standin, tenant_a, make_user, client_a
):
    from accounts.tokens import tokens_for_user

    owner = make_user(email="fuzz-owner@example.com", tenant=tenant_a, role="owner")
    schema_json = client_a.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    def as_owner() -> dict:
        access = tokens_for_user(user=owner, tenant=tenant_a)["access"]
        return {"Authorization": f"Bearer {access}"}

    failures, operations, answered = _server_errors(schema_json, "alpha.localhost", as_owner)

    assert operations > 80
    assert answered > 30  # the owner's requests get through, not only refusals
    assert failures == []


@pytest.mark.django_db
def test_no_operation_of_the_public_host_answers_a_server_error(no_debug, public_client):
    schema_json = public_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    failures, operations, answered = _server_errors(schema_json, "localhost", dict)

    assert operations >= 2  # the API root and workspace sign-up
    assert answered >= 1
    assert failures == []
