"""Rendering of notification templates: branding, subject, plain-text and HTML parts from one
context, the in-app version, and the signed one-click unsubscribe links."""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core import signing
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from notifications import registry
from notifications.models import Branding
from tenants.links import app_base_url, platform_base_url

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str
    from_email: str  # a full "Name <address>"
    reply_to: str
    primary_color: str
    footer: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _tenant():
    from tenants.models import Tenant

    current = getattr(connection, "tenant", None)  # set by the middleware and by Celery tasks
    if isinstance(current, Tenant) and current.schema_name == connection.schema_name:
        return current
    return Tenant.objects.filter(schema_name=connection.schema_name).first()


# Characters that would let a display name pass for an address, a second sender or a header.
_NOT_IN_NAMES = set('@<>"\\,;:()[]') | {chr(code) for code in range(32)} | {"\x7f"}
_SENDER_NAME_MAX = 60


def sender_name(chosen: str, platform: str) -> str:
    """The From name of a workspace's email: its chosen name, cut to plain words, then
    "via <platform>". Whoever names a workspace may pick any name ("Security Team", an email
    address): the platform's own name always shows who really sends it."""
    cleaned = " ".join("".join(" " if ch in _NOT_IN_NAMES else ch for ch in chosen).split())
    cleaned = cleaned[:_SENDER_NAME_MAX].strip()
    if not cleaned or cleaned.casefold() == platform.casefold():
        return platform
    return f"{cleaned} via {platform}"


def brand_current() -> Brand:
    """This schema's branding: its Branding row over the tenant's name and DEFAULT_FROM_EMAIL."""
    row = Branding.objects.first()
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    platform_name = default_name or "Platform"
    if connection.schema_name != get_public_schema_name():
        tenant = _tenant()
        default_name = tenant.name if tenant else default_name
    name = (row.name if row else "") or default_name or "Platform"
    address = (row.from_email if row else "") or default_address
    from_name = sender_name((row.from_name if row else "") or name, platform_name)
    return Brand(
        name=name,
        logo_url=row.logo_url if row else "",
        from_email=formataddr((from_name, address)),
        reply_to=row.reply_to if row else "",
        primary_color=row.primary_color if row else "#2563eb",
        footer=row.footer if row else "",
    )


def base_url_current() -> str:
    """Where the current schema's tenant opens emailed links (its SPA or its primary host)."""
    return app_base_url(_tenant())


# --- Unsubscribe links ----------------------------------------------------------------------


def unsubscribe_token(*, email: str, category: str, schema_name: str | None = None) -> str:
    payload = {"e": email.lower(), "c": category, "s": schema_name or connection.schema_name}
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> dict | None:
    """{"email", "category", "schema"} of a valid, unexpired token; None otherwise."""
    max_age = settings.NOTIFICATIONS["UNSUBSCRIBE_MAX_AGE_DAYS"] * 86400
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(payload, dict) or not {"e", "c", "s"} <= payload.keys():
        return None
    return {"email": payload["e"], "category": payload["c"], "schema": payload["s"]}


def unsubscribe_url(*, email: str, category: str) -> str:
    """The platform serves the unsubscribe page itself, so the link skips any SPA."""
    token = unsubscribe_token(email=email, category=category)
    path = reverse("notifications:unsubscribe", args=[token])
    return platform_base_url(_tenant()) + path


# --- Templates ------------------------------------------------------------------------------


def _context(*, template: registry.Template, context: dict, brand: Brand, extra: dict) -> dict:
    category = registry.CATEGORIES[template.category]
    return {
        **context,
        "brand": brand,
        "category": category,
        "template_name": template.name,
        **extra,
    }


def render_email(
    *, template: str, context: dict, to_email: str, base_url: str, brand: Brand | None = None
) -> tuple[RenderedEmail, str | None]:
    """Renders the three parts; returns them and the unsubscribe URL (None for essential mail)."""
    spec = registry.template_get(template)
    brand = brand or brand_current()
    unsubscribe = None
    if not registry.is_essential(spec.category):
        unsubscribe = unsubscribe_url(email=to_email, category=spec.category)
    full = _context(
        template=spec,
        context=context,
        brand=brand,
        extra={"base_url": base_url, "unsubscribe_url": unsubscribe, "to_email": to_email},
    )
    prefix = f"notifications/{template}"
    subject = " ".join(render_to_string(f"{prefix}/subject.txt", full).split())
    full["subject"] = subject
    text = render_to_string(f"{prefix}/body.txt", full).strip() + "\n"
    html = render_to_string(f"{prefix}/body.html", full)
    return RenderedEmail(subject=subject, text=text, html=html), unsubscribe


def render_in_app(*, template: str, context: dict) -> tuple[str, str]:
    """(title, body) of a template's in-app version."""
    spec = registry.template_get(template)
    full = _context(template=spec, context=context, brand=brand_current(), extra={})
    rendered = render_to_string(f"notifications/{template}/in_app.txt", full).strip()
    title, _, body = rendered.partition("\n")
    return title.strip(), body.strip()
