"""A local stand-in for the Stripe API endpoints billing calls, and Stripe-signed webhooks.

Used by the tests and the benchmark (Stripe cannot be reached from CI). It speaks Stripe's wire
format (form-encoded requests with bracketed keys, JSON objects with "object", errors as
{"error": {"type", "code", "message"}}) so the real `stripe` library talks to it unchanged, and
it records every request (method, path, params, Idempotency-Key) for assertions. Like Stripe, a
POST repeated with the same Idempotency-Key returns the first response without a second effect.
"""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MONTH = 30 * 24 * 3600


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


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None, **extra):
        super().__init__(message)
        self.status, self.body = status, {"type": type_, "message": message, **extra}
        if code:
            self.body["code"] = code


@dataclass
class StripeStub:
    """The stand-in's state: objects by id, the request log, and idempotent responses."""

    objects: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    idempotent: dict = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""

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

    def event(self, type_: str, obj_id: str, *, event_id: str | None = None, **obj) -> dict:
        """An event as Stripe sends it: a snapshot of the object at the time of the event."""
        snapshot = dict(self.objects.get(obj_id, {"id": obj_id}), **obj)
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
            "data": {"object": json.loads(json.dumps(snapshot))},
        }

    def create_price(self, *, amount: int, currency: str = "usd", interval: str = "month") -> dict:
        return self._store(
            {
                "id": self.new_id("price"),
                "object": "price",
                "active": True,
                "currency": currency,
                "unit_amount": amount,
                "type": "recurring",
                "recurring": {"interval": interval, "interval_count": 1},
            }
        )

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

    def handle(self, method: str, path: str, params: dict) -> dict:
        routes = [
            ("POST", r"/v1/customers", self.customer_create),
            ("GET", r"/v1/customers/(?P<id>[^/]+)", lambda p, id: self._get(id, "customer")),
            ("POST", r"/v1/prices", self.price_create),
            ("GET", r"/v1/prices/(?P<id>[^/]+)", lambda p, id: self._get(id, "price")),
            ("POST", r"/v1/payment_intents", self.payment_intent_create),
            (
                "GET",
                r"/v1/payment_intents/(?P<id>[^/]+)",
                lambda p, id: self._get(id, "payment_intent"),
            ),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/confirm", self.payment_intent_confirm),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/cancel", self.payment_intent_cancel),
            ("POST", r"/v1/refunds", self.refund_create),
            ("GET", r"/v1/refunds/(?P<id>[^/]+)", lambda p, id: self._get(id, "refund")),
            ("POST", r"/v1/subscriptions", self.subscription_create),
            (
                "GET",
                r"/v1/subscriptions/(?P<id>[^/]+)",
                lambda p, id: self._get(id, "subscription"),
            ),
            ("POST", r"/v1/subscriptions/(?P<id>[^/]+)", self.subscription_update),
            ("DELETE", r"/v1/subscriptions/(?P<id>[^/]+)", self.subscription_cancel),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(params, **match.groupdict())
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({path}).")

    def customer_create(self, p: dict) -> dict:
        return self._store(
            {
                "id": self.new_id("cus"),
                "object": "customer",
                "email": p.get("email"),
                "name": p.get("name"),
                "metadata": p.get("metadata", {}),
            }
        )

    def price_create(self, p: dict) -> dict:
        return self.create_price(
            amount=int(p["unit_amount"]),
            currency=p.get("currency", "usd"),
            interval=p.get("recurring", {}).get("interval", "month"),
        )

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
        if p.get("payment_method"):
            pi["payment_method"] = p["payment_method"]
            pi["status"] = "requires_confirmation"
            if p.get("confirm") in ("true", True):
                return self.payment_intent_confirm({}, pi_id)
        return pi

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
            raise StripeError(
                402,
                "card_error",
                "Your card was declined.",
                "card_declined",
                decline_code="generic_decline",
                payment_intent=dict(pi),
            )
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        pi["latest_charge"] = self._store(
            {
                "id": self.new_id("ch"),
                "object": "charge",
                "amount": pi["amount"],
                "amount_refunded": 0,
                "payment_intent": id,
                "metadata": dict(pi["metadata"]),
            }
        )["id"]
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
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return self._store(
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
        return self._store(
            {
                "id": self.new_id("sub"),
                "object": "subscription",
                "customer": p["customer"],
                "status": "trialing" if trial_days else "active",
                "items": {"object": "list", "data": items, "has_more": False},
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "trial_end": now + trial_days * 86400 if trial_days else None,
                "metadata": p.get("metadata", {}),
            }
        )

    def subscription_update(self, p: dict, id: str) -> dict:
        sub = self._get(id, "subscription")
        if sub["status"] == "canceled":
            raise StripeError(
                400,
                "invalid_request_error",
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        if "cancel_at_period_end" in p:
            sub["cancel_at_period_end"] = p["cancel_at_period_end"] == "true"
            sub["canceled_at"] = int(time.time()) if sub["cancel_at_period_end"] else None
        for item in p.get("items", []):
            current = next(i for i in sub["items"]["data"] if i["id"] == item["id"])
            current["price"] = dict(self._get(item["price"], "price"))
        if p.get("trial_end") == "now":
            sub["trial_end"], sub["status"] = int(time.time()), "active"
        if "metadata" in p:
            sub["metadata"].update(p["metadata"])
        return sub

    def subscription_cancel(self, p: dict, id: str) -> dict:
        sub = self._get(id, "subscription")
        now = int(time.time())
        sub.update(status="canceled", canceled_at=now, ended_at=now)
        return sub

    # --- the HTTP side -----------------------------------------------------------------------
    def respond(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict]:
        with self.lock:
            record = Recorded(method, path, params, key)
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
            return status, body


class _Handler(BaseHTTPRequestHandler):
    stub: StripeStub

    def _serve(self):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else split.query
        status, payload = self.stub.respond(
            self.command, split.path, parse_form(body), self.headers.get("Idempotency-Key")
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{time.monotonic_ns()}")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format, *args):  # quiet
        pass


@contextmanager
def stripe_stub():
    """Runs the stand-in on a free loopback port; yields its state (with .url)."""
    stub = StripeStub()
    handler = type("Handler", (_Handler,), {"stub": stub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
