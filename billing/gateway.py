"""The one place billing talks to Stripe: a configured client and Stripe errors as domain errors.

The secret key is read from settings (the environment) on each call and never logged.
"""

import logging
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings

from billing.errors import (
    BillingNotConfigured,
    GatewayRejected,
    GatewayUnavailable,
    PaymentDeclined,
)

logger = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _client(key: str, base: str, retries: int, version: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": base}, max_network_retries=retries, stripe_version=version
    )


def client() -> Any:
    """The StripeClient's v1 services (customers, payment_intents, refunds, subscriptions...)."""
    key = settings.STRIPE_SECRET_KEY
    if not key:
        raise BillingNotConfigured()
    base = settings.STRIPE_API_BASE or stripe.api_base
    return _client(key, base, settings.STRIPE_MAX_NETWORK_RETRIES, settings.STRIPE_API_VERSION).v1


@contextmanager
def translated_errors():
    """Stripe's exceptions become the platform's error shape (card errors 402, outages 502)."""
    try:
        yield
    except stripe.CardError as exc:
        raise PaymentDeclined(exc.user_message or PaymentDeclined.default_message) from exc
    except stripe.AuthenticationError as exc:
        # Its message quotes part of the key: log the type only.
        logger.error("Stripe refused the API key (%s)", type(exc).__name__)
        raise BillingNotConfigured() from exc
    except stripe.InvalidRequestError as exc:
        raise GatewayRejected(exc.user_message or GatewayRejected.default_message) from exc
    except stripe.StripeError as exc:
        logger.warning("Stripe call failed: %s", type(exc).__name__)
        raise GatewayUnavailable() from exc


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with translated_errors():
        return fn(*args, **kwargs)


def as_dict(obj: Any) -> dict:
    """A StripeObject as plain JSON data (for storing and for reading nested fields safely)."""
    return obj.to_dict(for_json=True) if hasattr(obj, "to_dict") else dict(obj)
