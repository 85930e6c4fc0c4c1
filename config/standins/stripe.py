"""A local stand-in for the Stripe API endpoints billing calls, and Stripe-signed webhooks.

Used by `make run` (when no Stripe keys are set), the tests and the benchmark (Stripe cannot be
reached from CI). Objects and events have the shapes of the API version pinned in
settings.STRIPE_API_VERSION. Every change it makes emits the events Stripe would emit; with a
forward URL they are POSTed there signed like `stripe listen --forward-to` does.

It speaks Stripe's wire format (form-encoded requests with bracketed keys, JSON objects with
"object", errors as {"error": {"type", "code", "message"}}) so the real `stripe` library talks to
it unchanged, and it records every request (method, path, params, Idempotency-Key) for
assertions. Like Stripe, a POST repeated with the same Idempotency-Key returns the first response
without a second effect.
"""

import copy
import hashlib
import hmac
import itertools
import json
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MONTH = 30 * 24 * 3600
DAY = 24 * 3600
# The version whose shapes this module speaks (settings.STRIPE_API_VERSION pins the same).
API_VERSION = "2026-10-28.endive"
# Stripe's test payment methods: brand, last4, and whether charging the card fails.
TEST_CARDS = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    # Attaches fine; every later charge is declined (renewals, retries).
    "pm_card_chargeCustomerFail": ("visa", "0341", "card_declined"),
    # Declined at once (a payment or a setup confirmation).
    "pm_card_chargeDeclined": ("visa", "0002", "card_declined"),
}


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends: t=<unix time>,v1=HMAC-SHA256("t.payload")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _assign(target: dict, keys: list[str], value: str) -> None:
    key, rest = keys[0], keys[1:]
    if not rest:
        target[key] = value
        return
    child = target.setdefault(key, {})
    _assign(child, rest, value)


def _lists(value):
    """{"0": a, "1": b} -> [a, b], recursively (Stripe encodes arrays as items[0][price])."""
    if isinstance(value, dict):
        value = {k: _lists(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value


def parse_form(body: str) -> dict:
    params: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        _assign(params, parts, value)
    return _lists(params)


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    status: int = 200
    version: str | None = None


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None, **extra):
        super().__init__(message)
        self.status, self.body = status, {"type": type_, "message": message, **extra}
        if code:
            self.body["code"] = code


def _declined(message: str = "Your card was declined.", **extra) -> StripeError:
    return StripeError(
        402, "card_error", message, "card_declined", decline_code="generic_decline", **extra
    )


@dataclass
class StripeStub:
    """The stand-in's state: objects by id, the request log, idempotent responses and the events
    it emitted (delivered to `forward_to`, signed with `webhook_secret`, when set)."""

    objects: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    idempotent: dict = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    api_version: str = API_VERSION
    events: list = field(default_factory=list)
    forward_to: str = ""
    webhook_secret: str = ""
    # (event id, HTTP status or error) of each delivery attempt to forward_to.
    deliveries: list = field(default_factory=list)
    # Tests may replace the transport: post(url, body, headers) -> status.
    post: Callable[[str, bytes, dict], int] | None = None
    # Proration items waiting for the customer's next invoice, by customer id.
    pending_items: dict = field(default_factory=dict)
    state_path: str = ""
    _outbox: queue.Queue | None = None

    # --- helpers for tests -------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.counter):06d}stub"

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or re.fullmatch(path, r.path))
        ]

    def update(self, obj_id: str, **fields) -> dict:
        """Changes an object as if something happened on Stripe's side (a renewal failed...)."""
        with self.lock:
            self.objects[obj_id].update(fields)
            return self.objects[obj_id]

    def _event(self, type_: str, snapshot: dict, *, event_id=None, previous=None) -> dict:
        data: dict = {"object": json.loads(json.dumps(snapshot))}
        if previous:
            data["previous_attributes"] = json.loads(json.dumps(previous))
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
            "data": data,
        }

    def event(self, type_: str, obj_id: str, *, event_id: str | None = None, **obj) -> dict:
        """An event as Stripe sends it: a snapshot of the object at the time of the event (built
        for a test; not recorded or delivered)."""
        snapshot = dict(self.objects.get(obj_id, {"id": obj_id}), **obj)
        return self._event(type_, snapshot, event_id=event_id)

    def card_on_file(self, customer_id: str, card: str = "pm_card_visa") -> dict:
        """Attaches a test card to a customer and makes it the default (what a confirmed
        SetupIntent and the platform's follow-up call do)."""
        with self.lock:
            method = self.payment_method_attach({"customer": customer_id}, card)
            self.customer_update(
                {"invoice_settings": {"default_payment_method": method["id"]}}, customer_id
            )
            return method

    def events_of(self, type_: str, obj_id: str | None = None) -> list[dict]:
        return [
            e
            for e in self.events
            if e["type"] == type_ and (obj_id is None or e["data"]["object"].get("id") == obj_id)
        ]

    def emit(self, type_: str, obj: dict, previous: dict | None = None) -> dict:
        """Records the event Stripe would send for this change and queues its delivery."""
        event = self._event(type_, obj, previous=previous)
        self.events.append(event)
        if self.forward_to:
            self._deliver_later(event)
        return event

    def create_price(
        self, *, amount: int, currency: str = "usd", interval: str = "month", id: str = ""
    ) -> dict:
        return self._store(
            {
                "id": id or self.new_id("price"),
                "object": "price",
                "active": True,
                "currency": currency,
                "unit_amount": amount,
                "type": "recurring",
                "recurring": {"interval": interval, "interval_count": 1},
            }
        )

    # --- webhook delivery (like `stripe listen --forward-to`) ---------------------------------
    def _deliver_later(self, event: dict) -> None:
        if self._outbox is None:
            self._outbox = queue.Queue()
            threading.Thread(target=self._deliver_loop, daemon=True).start()
        self._outbox.put(event)

    def _deliver_loop(self) -> None:
        while True:
            event = self._outbox.get()
            if event is None:
                return
            self.deliver(event)

    def deliver(self, event: dict, *, attempts: int = 5) -> int | str:
        """POSTs one event to forward_to, signed; retried with backoff while it is refused or
        unreachable (the platform may still be starting). Returns the last outcome."""
        payload = json.dumps(event)
        outcome: int | str = "not sent"
        for attempt in range(attempts):
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign_payload(payload, self.webhook_secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            }
            try:
                if self.post is not None:
                    outcome = self.post(self.forward_to, payload.encode(), headers)
                else:
                    request = urllib.request.Request(  # noqa: S310 (an http URL of ours)
                        self.forward_to, payload.encode(), headers, method="POST"
                    )
                    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                        outcome = response.status
            except urllib.error.HTTPError as exc:
                outcome = exc.code
            except OSError as exc:
                outcome = type(exc).__name__
            self.deliveries.append((event["id"], outcome))
            if isinstance(outcome, int) and outcome < 300:
                break
            time.sleep(min(2**attempt, 10) * 0.5)
        return outcome

    # --- persistence (make run keeps its state across restarts) -------------------------------
    def save(self) -> None:
        if not self.state_path:
            return
        with self.lock:
            state = {
                "objects": self.objects,
                "pending_items": self.pending_items,
                "next": int(self.new_id("x").split("_")[1][:6]) + 1,
            }
            with open(self.state_path + ".tmp", "w") as file:
                json.dump(state, file)
            import os

            os.replace(self.state_path + ".tmp", self.state_path)

    def load(self) -> None:
        import os

        if not self.state_path or not os.path.exists(self.state_path):
            return
        with open(self.state_path) as file:
            state = json.load(file)
        self.objects.update(state["objects"])
        self.pending_items.update(state.get("pending_items", {}))
        self.counter = itertools.count(state["next"])

    # --- the API -----------------------------------------------------------------------------
    def _store(self, obj: dict) -> dict:
        obj.setdefault("created", int(time.time()))
        obj.setdefault("livemode", False)
        obj.setdefault("metadata", {})
        self.objects[obj["id"]] = obj
        return obj

    def _get(self, obj_id: str, kind: str) -> dict:
        obj = self.objects.get(obj_id)
        if obj is None or obj.get("object") != kind:
            raise StripeError(
                404, "invalid_request_error", f"No such {kind}: '{obj_id}'", "resource_missing"
            )
        return obj

    def _list(self, items: list[dict], p: dict, url: str) -> dict:
        items = sorted(items, key=lambda o: (o["created"], o["id"]), reverse=True)
        if p.get("starting_after"):
            ids = [o["id"] for o in items]
            if p["starting_after"] in ids:
                items = items[ids.index(p["starting_after"]) + 1 :]
        limit = int(p.get("limit") or 10)
        return {
            "object": "list",
            "data": items[:limit],
            "has_more": len(items) > limit,
            "url": url,
        }

    def handle(self, method: str, path: str, params: dict) -> dict:
        get = self._get
        routes = [
            ("POST", r"/v1/customers", self.customer_create),
            ("GET", r"/v1/customers/(?P<id>[^/]+)", lambda p, id: get(id, "customer")),
            ("POST", r"/v1/customers/(?P<id>[^/]+)", self.customer_update),
            (
                "GET",
                r"/v1/customers/(?P<id>[^/]+)/payment_methods",
                self.customer_payment_methods,
            ),
            ("POST", r"/v1/prices", self.price_create),
            ("GET", r"/v1/prices/(?P<id>[^/]+)", lambda p, id: get(id, "price")),
            ("POST", r"/v1/payment_intents", self.payment_intent_create),
            (
                "GET",
                r"/v1/payment_intents/(?P<id>[^/]+)",
                lambda p, id: get(id, "payment_intent"),
            ),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/confirm", self.payment_intent_confirm),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/cancel", self.payment_intent_cancel),
            ("GET", r"/v1/charges/(?P<id>[^/]+)", lambda p, id: get(id, "charge")),
            ("POST", r"/v1/refunds", self.refund_create),
            ("GET", r"/v1/refunds", self.refund_list),
            ("GET", r"/v1/refunds/(?P<id>[^/]+)", lambda p, id: get(id, "refund")),
            ("GET", r"/v1/disputes/(?P<id>[^/]+)", lambda p, id: get(id, "dispute")),
            ("POST", r"/v1/setup_intents", self.setup_intent_create),
            ("GET", r"/v1/setup_intents/(?P<id>[^/]+)", lambda p, id: get(id, "setup_intent")),
            ("POST", r"/v1/setup_intents/(?P<id>[^/]+)/confirm", self.setup_intent_confirm),
            (
                "GET",
                r"/v1/payment_methods/(?P<id>[^/]+)",
                lambda p, id: get(id, "payment_method"),
            ),
            ("POST", r"/v1/payment_methods/(?P<id>[^/]+)/attach", self.payment_method_attach),
            ("POST", r"/v1/payment_methods/(?P<id>[^/]+)/detach", self.payment_method_detach),
            ("GET", r"/v1/invoices", self.invoice_list),
            ("GET", r"/v1/invoices/(?P<id>[^/]+)", lambda p, id: get(id, "invoice")),
            ("POST", r"/v1/invoices/(?P<id>[^/]+)/pay", self.invoice_pay),
            ("POST", r"/v1/subscriptions", self.subscription_create),
            (
                "GET",
                r"/v1/subscriptions/(?P<id>[^/]+)",
                lambda p, id: get(id, "subscription"),
            ),
            ("POST", r"/v1/subscriptions/(?P<id>[^/]+)", self.subscription_update),
            ("DELETE", r"/v1/subscriptions/(?P<id>[^/]+)", self.subscription_cancel),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(params, **match.groupdict())
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({path}).")

    # customers
    def customer_create(self, p: dict) -> dict:
        customer = self._store(
            {
                "id": self.new_id("cus"),
                "object": "customer",
                "email": p.get("email"),
                "name": p.get("name"),
                "metadata": p.get("metadata", {}),
                "invoice_settings": {"default_payment_method": None},
            }
        )
        self.emit("customer.created", customer)
        return customer

    def customer_update(self, p: dict, id: str) -> dict:
        customer = self._get(id, "customer")
        previous: dict = {}
        default = (p.get("invoice_settings") or {}).get("default_payment_method")
        if default is not None:
            if default:
                method = self._get(default, "payment_method")
                if method.get("customer") != id:
                    raise StripeError(
                        400,
                        "invalid_request_error",
                        f"The payment method {default} is not attached to this customer.",
                    )
            settings = customer.setdefault("invoice_settings", {"default_payment_method": None})
            previous["invoice_settings"] = dict(settings)
            settings["default_payment_method"] = default or None
        for key in ("email", "name"):
            if key in p:
                previous[key], customer[key] = customer.get(key), p[key]
        if "metadata" in p:
            previous["metadata"] = dict(customer["metadata"])
            customer["metadata"].update(p["metadata"])
        self.emit("customer.updated", customer, previous)
        return customer

    def customer_payment_methods(self, p: dict, id: str) -> dict:
        self._get(id, "customer")
        methods = [
            o
            for o in self.objects.values()
            if o.get("object") == "payment_method" and o.get("customer") == id
        ]
        return self._list(methods, p, f"/v1/customers/{id}/payment_methods")

    def price_create(self, p: dict) -> dict:
        return self.create_price(
            amount=int(p["unit_amount"]),
            currency=p.get("currency", "usd"),
            interval=p.get("recurring", {}).get("interval", "month"),
        )

    # payment methods and setup intents
    def _payment_method_from(self, token: str) -> dict:
        """A test token (pm_card_visa...) makes a new payment method, as in Stripe's test mode;
        an existing pm_ id is returned as is."""
        if token in TEST_CARDS:
            brand, last4, _ = TEST_CARDS[token]
            return self._store(
                {
                    "id": self.new_id("pm"),
                    "object": "payment_method",
                    "type": "card",
                    "customer": None,
                    "billing_details": {"email": None, "name": None},
                    "card": {
                        "brand": brand,
                        "last4": last4,
                        "exp_month": 12,
                        "exp_year": time.gmtime().tm_year + 3,
                        "country": "US",
                        "funding": "credit",
                    },
                    "allow_redisplay": "unspecified",
                    "test_token": token,
                }
            )
        return self._get(token, "payment_method")

    def _declines(self, method: dict | None) -> bool:
        token = (method or {}).get("test_token", "")
        return bool(TEST_CARDS.get(token, (None, None, None))[2])

    def payment_method_attach(self, p: dict, id: str) -> dict:
        customer = self._get(p.get("customer", ""), "customer")
        method = self._payment_method_from(id)
        if method.get("test_token") == "pm_card_chargeDeclined":
            raise _declined()
        if method.get("customer") == customer["id"]:
            return method
        if method.get("customer"):
            raise StripeError(
                400,
                "invalid_request_error",
                "The payment method is attached to another customer.",
                "payment_method_unexpected_state",
            )
        method["customer"] = customer["id"]
        self.emit("payment_method.attached", method)
        return method

    def payment_method_detach(self, p: dict, id: str) -> dict:
        method = self._get(id, "payment_method")
        if not method.get("customer"):
            raise StripeError(
                400,
                "invalid_request_error",
                "The payment method is not attached to a customer.",
                "payment_method_unexpected_state",
            )
        previous = {"customer": method["customer"]}
        customer = self.objects.get(method["customer"]) or {}
        settings = customer.get("invoice_settings") or {}
        if settings.get("default_payment_method") == id:
            settings["default_payment_method"] = None
            self.emit(
                "customer.updated",
                customer,
                {"invoice_settings": {"default_payment_method": id}},
            )
        method["customer"] = None
        self.emit("payment_method.detached", method, previous)
        return method

    def setup_intent_create(self, p: dict) -> dict:
        if p.get("customer"):
            self._get(p["customer"], "customer")
        si_id = self.new_id("seti")
        intent = self._store(
            {
                "id": si_id,
                "object": "setup_intent",
                "customer": p.get("customer"),
                "usage": p.get("usage", "off_session"),
                "status": "requires_payment_method",
                "client_secret": f"{si_id}_secret_{next(self.counter)}",
                "payment_method": None,
                "payment_method_types": ["card"],
                "last_setup_error": None,
                "metadata": p.get("metadata", {}),
            }
        )
        self.emit("setup_intent.created", intent)
        if p.get("payment_method") and p.get("confirm") in ("true", True):
            return self.setup_intent_confirm({"payment_method": p["payment_method"]}, si_id)
        return intent

    def setup_intent_confirm(self, p: dict, id: str) -> dict:
        """What Stripe.js's confirmSetup does with the card the user typed in."""
        intent = self._get(id, "setup_intent")
        if intent["status"] == "succeeded":
            raise StripeError(
                400,
                "invalid_request_error",
                "This SetupIntent has already succeeded.",
                "setup_intent_unexpected_state",
            )
        method = self._payment_method_from(p.get("payment_method") or "pm_card_visa")
        if method.get("test_token") == "pm_card_chargeDeclined":
            intent["last_setup_error"] = {"code": "card_declined", "message": "Declined."}
            self.emit("setup_intent.setup_failed", intent)
            raise _declined(setup_intent=dict(intent))
        if intent.get("customer"):
            self.payment_method_attach({"customer": intent["customer"]}, method["id"])
        intent.update(status="succeeded", payment_method=method["id"], last_setup_error=None)
        self.emit("setup_intent.succeeded", intent)
        return intent

    # payment intents, charges and refunds
    def payment_intent_create(self, p: dict) -> dict:
        amount = int(p.get("amount", 0))
        if amount < 50:
            raise StripeError(
                400, "invalid_request_error", "Amount must be at least 50 cents", "amount_too_small"
            )
        pi_id = self.new_id("pi")
        pi = self._store(
            {
                "id": pi_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": 0,
                "currency": p.get("currency", "usd"),
                "customer": p.get("customer"),
                "status": "requires_payment_method",
                "client_secret": f"{pi_id}_secret_{next(self.counter)}",
                "latest_charge": None,
                "metadata": p.get("metadata", {}),
                "cancellation_reason": None,
                "last_payment_error": None,
            }
        )
        self.emit("payment_intent.created", pi)
        if p.get("payment_method"):
            pi["payment_method"] = p["payment_method"]
            pi["status"] = "requires_confirmation"
            if p.get("confirm") in ("true", True):
                return self.payment_intent_confirm({}, pi_id)
        return pi

    def _charge(self, *, amount: int, currency: str, customer, metadata: dict, **links) -> dict:
        charge = self._store(
            {
                "id": self.new_id("ch"),
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "currency": currency,
                "customer": customer,
                "paid": True,
                "captured": True,
                "refunded": False,
                "disputed": False,
                "status": "succeeded",
                "payment_intent": None,
                "metadata": dict(metadata),
                **links,
            }
        )
        self.emit("charge.succeeded", charge)
        return charge

    def payment_intent_confirm(self, p: dict, id: str) -> dict:
        pi = self._get(id, "payment_intent")
        if pi["status"] in ("succeeded", "canceled"):
            raise StripeError(
                400,
                "invalid_request_error",
                f"This PaymentIntent's status is {pi['status']}.",
                "payment_intent_unexpected_state",
            )
        method = p.get("payment_method") or pi.get("payment_method") or "pm_card_visa"
        pi["payment_method"] = method
        if method == "pm_card_chargeDeclined":
            pi["status"] = "requires_payment_method"
            pi["last_payment_error"] = {
                "code": "card_declined",
                "message": "Your card was declined.",
            }
            self.emit("payment_intent.payment_failed", pi)
            raise _declined(payment_intent=dict(pi))
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        pi["latest_charge"] = self._charge(
            amount=pi["amount"],
            currency=pi["currency"],
            customer=pi.get("customer"),
            metadata=pi["metadata"],
            payment_intent=id,
        )["id"]
        self.emit("payment_intent.succeeded", pi)
        return pi

    def payment_intent_cancel(self, p: dict, id: str) -> dict:
        pi = self._get(id, "payment_intent")
        if pi["status"] == "succeeded":
            raise StripeError(
                400,
                "invalid_request_error",
                "You cannot cancel this PaymentIntent because it has a status of succeeded.",
                "payment_intent_unexpected_state",
            )
        pi["status"] = "canceled"
        pi["cancellation_reason"] = p.get("cancellation_reason")
        self.emit("payment_intent.canceled", pi)
        return pi

    def refund_create(self, p: dict) -> dict:
        pi = self._get(p.get("payment_intent", ""), "payment_intent")
        charge = self.objects.get(pi.get("latest_charge") or "")
        if pi["status"] != "succeeded" or charge is None:
            raise StripeError(
                400, "invalid_request_error", "This PaymentIntent has no successful charge."
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(p.get("amount", remaining))
        if amount <= 0 or amount > remaining:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount ({remaining}).",
                "amount_too_large",
            )
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = self._store(
            {
                "id": self.new_id("re"),
                "object": "refund",
                "amount": amount,
                "currency": pi["currency"],
                "payment_intent": pi["id"],
                "charge": charge["id"],
                "reason": p.get("reason"),
                "status": "succeeded",
                "metadata": p.get("metadata", {}),
            }
        )
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge, previous)
        return refund

    def refund_list(self, p: dict) -> dict:
        refunds = [
            o
            for o in self.objects.values()
            if o.get("object") == "refund"
            and (not p.get("payment_intent") or o["payment_intent"] == p["payment_intent"])
            and (not p.get("charge") or o["charge"] == p["charge"])
        ]
        return self._list(refunds, p, "/v1/refunds")

    # disputes (opened by the card holder's bank; Stripe's test cards do it on their own)
    def dispute_create(self, payment_intent: str, *, reason: str = "fraudulent") -> dict:
        with self.lock:
            pi = self._get(payment_intent, "payment_intent")
            charge = self._get(pi["latest_charge"], "charge")
            charge["disputed"] = True
            dispute = self._store(
                {
                    "id": self.new_id("dp"),
                    "object": "dispute",
                    "amount": charge["amount"] - charge["amount_refunded"],
                    "currency": charge["currency"],
                    "charge": charge["id"],
                    "payment_intent": pi["id"],
                    "reason": reason,
                    "status": "needs_response",
                    "is_charge_refundable": False,
                    "evidence_details": {
                        "due_by": int(time.time()) + 7 * DAY,
                        "has_evidence": False,
                        "past_due": False,
                        "submission_count": 0,
                    },
                }
            )
            self.emit("charge.dispute.created", dispute)
            self.save()
            return dispute

    def dispute_close(self, dispute_id: str, *, status: str) -> dict:
        """The bank decided: "won" (the money stays) or "lost" (it is taken back)."""
        with self.lock:
            dispute = self._get(dispute_id, "dispute")
            previous = {"status": dispute["status"]}
            dispute["status"] = status
            self.emit("charge.dispute.closed", dispute, previous)
            self.save()
            return dispute

    # invoices
    def _customer_method(self, customer_id: str, subscription: dict | None) -> dict | None:
        method_id = (subscription or {}).get("default_payment_method") or (
            (self.objects.get(customer_id) or {}).get("invoice_settings") or {}
        ).get("default_payment_method")
        return self.objects.get(method_id) if method_id else None

    def _invoice(self, sub: dict, lines: list[dict], reason: str) -> dict:
        total = sum(line["amount"] for line in lines)
        now = int(time.time())
        item = sub["items"]["data"][0]
        invoice = self._store(
            {
                "id": self.new_id("in"),
                "object": "invoice",
                "customer": sub["customer"],
                "number": f"STUB-{next(self.counter):06d}",
                "status": "open",
                "billing_reason": reason,
                "collection_method": "charge_automatically",
                "currency": item["price"]["currency"],
                "subtotal": total,
                "total": total,
                "amount_due": total,
                "amount_paid": 0,
                "amount_remaining": total,
                "attempt_count": 0,
                "attempted": False,
                "next_payment_attempt": None,
                "period_start": item["current_period_start"],
                "period_end": item["current_period_end"],
                "hosted_invoice_url": f"{self.url}/invoices/{sub['id']}",
                "lines": {"object": "list", "data": lines, "has_more": False},
                "parent": {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {
                        "subscription": sub["id"],
                        "metadata": dict(sub["metadata"]),
                    },
                },
                "status_transitions": {"finalized_at": now, "paid_at": None},
                "last_finalization_error": None,
            }
        )
        sub["latest_invoice"] = invoice["id"]
        self.emit("invoice.created", invoice)
        self.emit("invoice.finalized", invoice)
        return invoice

    def _line(self, sub: dict, amount: int, description: str, proration: bool = False) -> dict:
        item = sub["items"]["data"][0]
        return {
            "id": self.new_id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": item["price"]["currency"],
            "description": description,
            "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
            "pricing": {"type": "price_details", "price_details": {"price": item["price"]["id"]}},
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "subscription": sub["id"],
                    "subscription_item": item["id"],
                    "proration": proration,
                },
            },
        }

    def _collect(self, invoice: dict, method: dict | None) -> bool:
        """One payment attempt of an open invoice; the subscription's status follows."""
        sub = self.objects.get(invoice["parent"]["subscription_details"]["subscription"]) or {}
        if invoice["amount_due"] == 0 or (method and not self._declines(method)):
            if invoice["amount_due"]:
                invoice["charge"] = self._charge(
                    amount=invoice["amount_due"],
                    currency=invoice["currency"],
                    customer=invoice["customer"],
                    metadata={},
                    invoice=invoice["id"],
                )["id"]
            invoice.update(
                status="paid",
                amount_paid=invoice["amount_due"],
                amount_remaining=0,
                attempted=True,
                attempt_count=invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
                next_payment_attempt=None,
            )
            invoice["status_transitions"]["paid_at"] = int(time.time())
            self.emit("invoice.paid", invoice)
            self.emit("invoice.payment_succeeded", invoice)
            if sub and sub["status"] in ("past_due", "incomplete", "unpaid"):
                previous = {"status": sub["status"]}
                sub["status"] = "active"
                self.emit("customer.subscription.updated", sub, previous)
            return True
        invoice.update(
            attempted=True,
            attempt_count=invoice["attempt_count"] + 1,
            next_payment_attempt=int(time.time()) + 3 * DAY,
        )
        self.emit("invoice.payment_failed", invoice)
        if sub and sub["status"] in ("active", "trialing"):
            previous = {"status": sub["status"]}
            sub["status"] = "past_due"
            self.emit("customer.subscription.updated", sub, previous)
        return False

    def invoice_list(self, p: dict) -> dict:
        invoices = [
            o
            for o in self.objects.values()
            if o.get("object") == "invoice"
            and (not p.get("customer") or o["customer"] == p["customer"])
            and (
                not p.get("subscription")
                or o["parent"]["subscription_details"]["subscription"] == p["subscription"]
            )
        ]
        return self._list(invoices, p, "/v1/invoices")

    def invoice_pay(self, p: dict, id: str) -> dict:
        invoice = self._get(id, "invoice")
        if invoice["status"] != "open":
            raise StripeError(
                400,
                "invalid_request_error",
                f"Invoice is already {invoice['status']}.",
                "invoice_not_open",
            )
        sub = self.objects.get(invoice["parent"]["subscription_details"]["subscription"])
        if p.get("payment_method"):
            method = self._get(p["payment_method"], "payment_method")
        else:
            method = self._customer_method(invoice["customer"], sub)
        if method is None:
            raise StripeError(
                400,
                "invalid_request_error",
                "The customer has no default payment method.",
                "invoice_no_customer_payment_method",
            )
        if not self._collect(invoice, method):
            raise _declined(invoice=invoice["id"])
        return invoice

    # subscriptions
    def _subscription_item(self, price_id: str, start: int) -> dict:
        return {
            "id": self.new_id("si"),
            "object": "subscription_item",
            "price": dict(self._get(price_id, "price")),
            "quantity": 1,
            "current_period_start": start,
            "current_period_end": start + MONTH,
        }

    def subscription_create(self, p: dict) -> dict:
        self._get(p.get("customer", ""), "customer")
        now = int(time.time())
        trial_days = int(p.get("trial_period_days") or 0)
        items = [self._subscription_item(i["price"], now) for i in p.get("items", [])]
        if trial_days:
            for item in items:
                item["current_period_end"] = now + trial_days * DAY
        sub = self._store(
            {
                "id": self.new_id("sub"),
                "object": "subscription",
                "customer": p["customer"],
                "status": "trialing" if trial_days else "incomplete",
                "items": {"object": "list", "data": items, "has_more": False},
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "trial_start": now if trial_days else None,
                "trial_end": now + trial_days * DAY if trial_days else None,
                "default_payment_method": p.get("default_payment_method"),
                "collection_method": "charge_automatically",
                "latest_invoice": None,
                "metadata": p.get("metadata", {}),
            }
        )
        self.emit("customer.subscription.created", sub)
        if trial_days:
            lines = [self._line(sub, 0, "Trial period")]
            invoice = self._invoice(sub, lines, "subscription_create")
            self._collect(invoice, None)
            return sub
        amount = sum(i["price"]["unit_amount"] for i in items)
        invoice = self._invoice(sub, [self._line(sub, amount, "1 x plan")], "subscription_create")
        method = self._customer_method(p["customer"], sub)
        if method is not None and self._collect(invoice, method):
            return sub  # _collect made it active
        if method is None and amount == 0:
            self._collect(invoice, None)
        return sub

    def subscription_update(self, p: dict, id: str) -> dict:
        sub = self._get(id, "subscription")
        if sub["status"] == "canceled":
            raise StripeError(
                400,
                "invalid_request_error",
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        previous: dict = {}
        if "cancel_at_period_end" in p:
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            sub["cancel_at_period_end"] = p["cancel_at_period_end"] == "true"
            sub["canceled_at"] = int(time.time()) if sub["cancel_at_period_end"] else None
        if "default_payment_method" in p:
            previous["default_payment_method"] = sub.get("default_payment_method")
            sub["default_payment_method"] = p["default_payment_method"] or None
        proration_lines = []
        for item in p.get("items", []):
            current = next(i for i in sub["items"]["data"] if i["id"] == item["id"])
            new_price = dict(self._get(item["price"], "price"))
            old_price = current["price"]
            if new_price["id"] == old_price["id"]:
                continue
            previous.setdefault("items", copy.deepcopy(sub["items"]))
            current["price"] = new_price
            if sub["status"] == "trialing":
                continue  # nothing was charged yet
            now = int(time.time())
            period = current["current_period_end"] - current["current_period_start"]
            left = max(current["current_period_end"] - now, 0)
            behavior = p.get("proration_behavior", "create_prorations")
            if behavior != "none" and period:
                unused = -round(old_price["unit_amount"] * left / period)
                remaining = round(new_price["unit_amount"] * left / period)
                proration_lines += [
                    self._line(sub, unused, "Unused time on the previous plan", True),
                    self._line(sub, remaining, "Remaining time on the new plan", True),
                ]
        if p.get("trial_end") == "now" and sub["status"] == "trialing":
            previous["status"], previous["trial_end"] = sub["status"], sub["trial_end"]
            self._start_period(sub, reason="subscription_update", emit_update=False)
        if "metadata" in p:
            previous["metadata"] = dict(sub["metadata"])
            sub["metadata"].update(p["metadata"])
        if previous:
            self.emit("customer.subscription.updated", sub, previous)
        if proration_lines:
            if p.get("proration_behavior") == "always_invoice":
                invoice = self._invoice(sub, proration_lines, "subscription_update")
                self._collect(invoice, self._customer_method(sub["customer"], sub))
            else:
                self.pending_items.setdefault(sub["customer"], []).extend(proration_lines)
        return sub

    def subscription_cancel(self, p: dict, id: str) -> dict:
        sub = self._get(id, "subscription")
        now = int(time.time())
        sub.update(status="canceled", canceled_at=now, ended_at=now)
        self.emit("customer.subscription.deleted", sub)
        return sub

    def _start_period(self, sub: dict, *, reason: str, emit_update: bool = True) -> dict:
        """A new period begins (renewal or the trial's end): its invoice is charged to the
        customer's default payment method; a failure makes the subscription past_due."""
        previous = {"status": sub["status"]}
        start = int(time.time())
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = start, start + MONTH
        if sub["status"] == "trialing":
            sub["trial_end"], sub["status"] = start, "active"
        if emit_update:
            self.emit("customer.subscription.updated", sub, previous)
        amount = sum(i["price"]["unit_amount"] for i in sub["items"]["data"])
        lines = [self._line(sub, amount, "1 x plan"), *self.pending_items.pop(sub["customer"], [])]
        invoice = self._invoice(sub, lines, reason)
        self._collect(invoice, self._customer_method(sub["customer"], sub))
        return invoice

    def renew(self, sub_id: str) -> dict | None:
        """The period ends (what a test clock advancing past current_period_end does): a
        subscription set to cancel at period end ends, any other is invoiced for the next one.
        Returns the new invoice."""
        with self.lock:
            sub = self._get(sub_id, "subscription")
            if sub["cancel_at_period_end"]:
                now = int(time.time())
                sub.update(status="canceled", ended_at=now)
                self.emit("customer.subscription.deleted", sub)
                self.save()
                return None
            reason = "subscription_cycle" if sub["status"] != "trialing" else "subscription_update"
            if sub["status"] == "trialing":
                self.emit("customer.subscription.trial_will_end", sub)
            invoice = self._start_period(sub, reason=reason)
            self.save()
            return invoice

    # --- the HTTP side -----------------------------------------------------------------------
    def respond(
        self, method: str, path: str, params: dict, key: str | None, version: str | None = None
    ) -> tuple[int, dict]:
        with self.lock:
            record = Recorded(method, path, params, key, version=version)
            self.requests.append(record)
            if method == "POST" and key and (path, key) in self.idempotent:
                record.status, body = self.idempotent[(path, key)]
                return record.status, body
            try:
                status, body = 200, json.loads(json.dumps(self.handle(method, path, params)))
            except StripeError as exc:
                status, body = exc.status, {"error": exc.body}
            record.status = status
            if method == "POST" and key:
                self.idempotent[(path, key)] = (status, body)
            if method != "GET":
                self.save()
            return status, body


class _Handler(BaseHTTPRequestHandler):
    stub: StripeStub

    def _serve(self):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else split.query
        status, payload = self.stub.respond(
            self.command,
            split.path,
            parse_form(body),
            self.headers.get("Idempotency-Key"),
            self.headers.get("Stripe-Version"),
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{time.monotonic_ns()}")
        self.send_header("Stripe-Version", self.stub.api_version)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format, *args):  # quiet
        pass


@contextmanager
def stripe_stub(*, port: int = 0, host: str = "127.0.0.1", **options):
    """Runs the stand-in on a loopback port (a free one by default); yields its state (.url)."""
    stub = StripeStub(**options)
    stub.load()
    handler = type("Handler", (_Handler,), {"stub": stub})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    stub.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        if stub._outbox is not None:
            stub._outbox.put(None)


def main(argv: list[str] | None = None) -> None:
    """`python -m config.standins.stripe --port 12111 --forward-to URL --webhook-secret S
    --price price_pro=2900 ...`: serves until interrupted (config/devrun.py starts it)."""
    import argparse
    import os
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--forward-to", default="")
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET", ""))
    parser.add_argument("--state", default="", help="a JSON file kept across restarts")
    parser.add_argument("--price", action="append", default=[], help="ID=AMOUNT (monthly)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with stripe_stub(
        port=args.port,
        host=args.host,
        forward_to=args.forward_to,
        webhook_secret=args.webhook_secret,
        state_path=args.state,
    ) as stub:
        for spec in args.price:
            price_id, amount = spec.split("=", 1)
            if price_id not in stub.objects:
                stub.create_price(amount=int(amount), id=price_id)
        stub.save()
        print(f"Stripe stand-in on {stub.url} (API {stub.api_version})", flush=True)
        if args.forward_to:
            print(f"  forwarding signed events to {args.forward_to}", flush=True)
        with suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
