"""Provisioning a workspace with its owner: the schema (tenants), the default roles (rbac) and
the owner's account and membership; self-service sign-up on the public host (confirmed by email)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.cache import caches
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.errors import InvalidEmailToken
from accounts.services._common import RequestMeta, secret_hash
from accounts.services.memberships import membership_set
from accounts.services.registration import verification_send
from notifications.rendering import base_url_current
from notifications.services import email_send
from rbac.services import rbac_sync
from tenants import hooks
from tenants.errors import InvalidTenant
from tenants.links import app_base_url
from tenants.models import Membership, Tenant
from tenants.services import tenant_schema_create, tenant_validate


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    domain: str,
    owner_email: str | None = None,
    owner_password: str | None = None,
    plan: str = Tenant.Plan.FREE,
    verbosity: int = 1,
) -> Tenant:
    """Creates the tenant, its schema, its primary domain, its default roles and its owner's
    membership.

    All in one transaction: on any failure nothing is left behind, schema included.
    """
    tenant = tenant_schema_create(
        slug=slug, name=name, domain=domain, plan=plan, verbosity=verbosity
    )
    with schema_context(tenant.schema_name):
        rbac_sync()  # default roles and the platform's resources and permissions
    if owner_email:
        User = get_user_model()
        email = User.objects.normalize_email(owner_email).lower()
        owner = User.objects.filter(email=email).first()
        if owner is None:
            owner = User.objects.create_user(email=email, password=owner_password)
        membership_set(user=owner, tenant=tenant, role=Membership.Role.OWNER)
    # Stores outside PostgreSQL (the order documents) follow once the workspace exists.
    schema = tenant.schema_name
    transaction.on_commit(lambda: hooks.workspace_created(schema))
    return tenant


def _signup_key(token: str) -> str:
    return f"signup:{secret_hash(token)}"


def tenant_signup(
    *, name: str, slug: str, owner_email: str, owner_password: str, owner_name: str = ""
) -> None:
    """Self-service sign-up on the public host, first step: checks the request and emails a
    link that creates the workspace (tenant_signup_confirm).

    The answer is the same whether the address has an account or not: the password is checked
    for strength only, never against an existing account (so sign-up is no password oracle that
    skips the lockout and MFA), and nothing is created before the mailbox is proven. Following
    the link creates the account with this password, or, when the address already has an
    account, makes that account the owner and leaves its password as it is.
    """
    User = get_user_model()
    email = User.objects.normalize_email(owner_email).strip().lower()
    slug = slug.strip().lower()
    domain = f"{slug}.{settings.TENANT_BASE_DOMAIN}"
    tenant_validate(slug=slug, name=name, domain=domain)
    candidate = User(email=email, name=owner_name)
    try:
        password_validation.validate_password(owner_password, user=candidate)
    except DjangoValidationError as exc:
        raise InvalidTenant(
            "The password is too weak.", fields={"owner_password": list(exc.messages)}
        ) from exc
    existing = User.objects.filter(email=email, is_active=True).first()
    token = secrets.token_urlsafe(32)
    hours = settings.ACCOUNTS["EMAIL_VERIFICATION_HOURS"]
    pending = {
        "name": name,
        "slug": slug,
        "email": email,
        "owner_name": owner_name,
        # Hashed now (the same cost for every address); used only for a new account.
        "password": make_password(owner_password),
    }
    caches["auth"].set(_signup_key(token), pending, hours * 3600)
    base_url = base_url_current()
    path = settings.ACCOUNTS["SIGNUP_CONFIRM_PATH"]
    email_send(
        to=email,
        template="workspace_confirm",
        context={
            "name": existing.name if existing else owner_name,
            "workspace": name,
            "link": f"{base_url.rstrip('/')}{path}?token={token}",
            "hours": hours,
            "existing_account": existing is not None,
        },
        user=existing,
        base_url=base_url,
    )


def tenant_signup_confirm(*, token: str) -> Tenant:
    """Second step: the emailed link creates the workspace and, for a new address, its owner's
    account (confirmed, since the link proves the mailbox). Each link works once."""
    cache = caches["auth"]
    key = _signup_key(token or "")
    pending = cache.get(key)
    if pending is None or not cache.delete(key):
        raise InvalidEmailToken()
    User = get_user_model()
    with transaction.atomic():
        tenant = tenant_create(
            slug=pending["slug"],
            name=pending["name"],
            domain=f"{pending['slug']}.{settings.TENANT_BASE_DOMAIN}",
            verbosity=0,
        )
        owner = User.objects.filter(email=pending["email"]).first()
        if owner is None:
            owner = User.objects.create_user(
                email=pending["email"],
                name=pending["owner_name"],
                email_verified_at=timezone.now(),
            )
            owner.password = pending["password"]
            owner.save(update_fields=["password"])
        elif not owner.is_active:
            raise InvalidEmailToken()
        membership_set(user=owner, tenant=tenant, role=Membership.Role.OWNER)
        if owner.email_verified_at is None:
            # The new owner cannot sign in before confirming the address: the link opens on
            # the new workspace, and the message is recorded there.
            meta = RequestMeta(tenant=tenant, base_url=app_base_url(tenant))
            with schema_context(tenant.schema_name):
                verification_send(user=owner, meta=meta)
    return tenant
