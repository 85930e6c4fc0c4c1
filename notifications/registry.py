"""The notification templates and categories every app may send, with an example context each.

A template lives in templates/notifications/<name>/: subject.txt, body.txt and body.html (both
extend the shared layout) and, for templates with an in-app version, in_app.txt (first line the
title, the rest the body). Apps register their own with `register_template(...)` in
AppConfig.ready(); the ones below are the platform's.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    # Essential emails (account and security) are always sent; they cannot be unsubscribed from.
    essential: bool = False


@dataclass(frozen=True)
class Template:
    name: str
    category: str
    # The context holds one-time links: it is emptied once sent, and the message cannot be resent.
    sensitive: bool = False
    in_app: bool = False
    example: dict = field(default_factory=dict)


CATEGORIES: dict[str, Category] = {}
TEMPLATES: dict[str, Template] = {}


def register_category(key: str, label: str, *, essential: bool = False) -> Category:
    CATEGORIES[key] = Category(key=key, label=label, essential=essential)
    return CATEGORIES[key]


def register_template(
    name: str,
    *,
    category: str,
    sensitive: bool = False,
    in_app: bool = False,
    example: dict | None = None,
) -> Template:
    if category not in CATEGORIES:
        raise ValueError(f"Unknown notification category {category!r}.")
    TEMPLATES[name] = Template(
        name=name, category=category, sensitive=sensitive, in_app=in_app, example=example or {}
    )
    return TEMPLATES[name]


register_category("account", "Account", essential=True)
register_category("security", "Security alerts", essential=True)
register_category("orders", "Orders")
register_category("billing", "Billing and receipts")
register_category("chat", "Chat mentions")
register_category("product", "Product news and tips")

_LINK = "https://alpha.example.com/x?token=abc"

register_template(
    "verify_email",
    category="account",
    sensitive=True,
    example={"name": "Ann", "link": _LINK, "hours": 24},
)
register_template(
    "already_registered",
    category="account",
    example={"name": "Ann", "login_url": "https://alpha.example.com"},
)
register_template(
    "workspace_confirm",
    category="account",
    sensitive=True,
    example={
        "name": "Ann",
        "workspace": "Acme",
        "link": "https://example.com/confirm-workspace?token=abc",
        "hours": 24,
        "existing_account": False,
    },
)
register_template(
    "password_reset",
    category="account",
    sensitive=True,
    example={"name": "Ann", "link": _LINK, "minutes": 60},
)
register_template("password_changed", category="security", in_app=True, example={"name": "Ann"})
register_template(
    "security_alert",
    category="security",
    in_app=True,
    example={
        "name": "Ann",
        "event": "New sign-in",
        "details": "Firefox on Linux, 203.0.113.7",
        "url": "/settings/security",
    },
)
register_template(
    "order_confirmation",
    category="orders",
    in_app=True,
    example={
        "name": "Ann",
        "order_number": "A-1001",
        "items": [{"name": "Blue mug", "quantity": 2, "total": "18.00"}],
        "total": "18.00",
        "currency": "EUR",
        "url": "/orders/A-1001",
    },
)
register_template(
    "order_status_changed",
    category="orders",
    in_app=True,
    example={"name": "Ann", "order_number": "A-1001", "status": "shipped", "url": "/orders/A-1"},
)
register_template(
    "payment_receipt",
    category="billing",
    in_app=True,
    example={
        "name": "Ann",
        "amount": "18.00",
        "currency": "EUR",
        "description": "Order A-1001",
        "receipt_number": "R-2001",
        "url": "/billing/receipts/R-2001",
    },
)
register_template(
    "chat_mention",
    category="chat",
    in_app=True,
    example={
        "name": "Ann",
        "author": "Bob",
        "room": "general",
        "excerpt": "@Ann can you look at this?",
        "url": "/chat/general",
    },
)
register_template(
    "product_update",
    category="product",
    example={"name": "Ann", "headline": "Faster search", "text": "Search is twice as fast."},
)


def template_get(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"Unknown notification template {name!r}.") from None


def is_essential(category: str) -> bool:
    found = CATEGORIES.get(category)
    return bool(found and found.essential)
