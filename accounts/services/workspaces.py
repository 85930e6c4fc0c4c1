"""Provisioning a workspace with its owner: the schema (tenants), the default roles (rbac) and
the owner's account and membership; self-service sign-up on the public host."""

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django_tenants.utils import schema_context

from accounts.services._common import RequestMeta
from accounts.services.memberships import membership_set
from accounts.services.registration import verification_send
from rbac.services import rbac_sync
from tenants.errors import InvalidTenant
from tenants.links import app_base_url
from tenants.models import Membership, Tenant
from tenants.services import tenant_schema_create


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
    return tenant


def tenant_signup(
    *, name: str, slug: str, owner_email: str, owner_password: str, owner_name: str = ""
) -> Tenant:
    """Self-service sign-up on the public host: a new workspace at <slug>.<TENANT_BASE_DOMAIN>
    owned by the signing-up user (created, or an existing account proven by its password)."""
    User = get_user_model()
    email = User.objects.normalize_email(owner_email).strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        if not existing.is_active or not existing.check_password(owner_password):
            raise InvalidTenant(
                "Sign in details are not valid.",
                fields={"owner_password": ["Not valid for this email address."]},
            )
    else:
        candidate = User(email=email, name=owner_name)
        try:
            password_validation.validate_password(owner_password, user=candidate)
        except DjangoValidationError as exc:
            raise InvalidTenant(
                "The password is too weak.", fields={"owner_password": list(exc.messages)}
            ) from exc
    domain = f"{slug.strip().lower()}.{settings.TENANT_BASE_DOMAIN}"
    with transaction.atomic():
        tenant = tenant_create(slug=slug, name=name, domain=domain, verbosity=0)
        owner = existing or User.objects.create_user(
            email=email, password=owner_password, name=owner_name
        )
        membership_set(user=owner, tenant=tenant, role=Membership.Role.OWNER)
        if owner.email_verified_at is None:
            # The new owner cannot sign in before confirming the address: the link opens on
            # the new workspace, and the message is recorded there.
            meta = RequestMeta(tenant=tenant, base_url=app_base_url(tenant))
            with schema_context(tenant.schema_name):
                verification_send(user=owner, meta=meta)
    return tenant
