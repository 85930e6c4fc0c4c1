"""Registration on a workspace's host and email verification."""

from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.errors import SignupClosed
from accounts.models import OneTimeToken, User
from accounts.services._common import (
    RequestMeta,
    link_with_token,
    one_time_token_consume,
    one_time_token_issue,
    password_validate,
)
from accounts.services.events import Kind, security_event_record
from accounts.services.memberships import membership_admit
from notifications.services import email_send
from tenants.errors import PlanLimitReached


def verification_send(*, user: User, meta: RequestMeta) -> None:
    raw = one_time_token_issue(
        user=user,
        purpose=OneTimeToken.Purpose.VERIFY_EMAIL,
        lifetime=timedelta(hours=settings.ACCOUNTS["EMAIL_VERIFICATION_HOURS"]),
    )
    link = link_with_token(meta, settings.ACCOUNTS["VERIFY_EMAIL_PATH"], raw)
    email_send(
        to=user.email,
        template="verify_email",
        context={
            "name": user.name,
            "link": link,
            "hours": settings.ACCOUNTS["EMAIL_VERIFICATION_HOURS"],
        },
        user=user,
        base_url=meta.base_url,
    )


@transaction.atomic
def user_register(*, email: str, password: str, name: str, meta: RequestMeta) -> User | None:
    """Creates an unverified account and emails a verification link.

    Every check that can refuse (closed workspace, weak password) runs before the address is
    looked up, and an existing account gets an email instead, so the answer never tells who
    has an account. Registering admits to no workspace: an account becomes a member when it
    confirms its address (the workspace where it confirms) or signs in, so unconfirmed
    addresses take no seat.
    """
    if not meta.tenant.allow_self_signup:
        raise SignupClosed()
    email = User.objects.normalize_email(email).strip().lower()
    password_validate(password, user=User(email=email, name=name), field_name="password")
    existing = User.objects.filter(email=email).first()
    if existing is not None and existing.email_verified_at is None and existing.is_active:
        # The newest registration of an unconfirmed address wins: its password replaces the
        # earlier one and earlier links die, so whoever squatted the address first cannot
        # own the account once its real owner registers and confirms.
        existing.set_password(password)
        existing.name = name.strip()
        existing.save(update_fields=["password", "name"])
        OneTimeToken.objects.filter(
            user=existing, purpose=OneTimeToken.Purpose.VERIFY_EMAIL, used_at__isnull=True
        ).update(used_at=timezone.now())
        verification_send(user=existing, meta=meta)
        return None
    if existing is not None:
        make_password(password)  # costs what the other paths cost, so timing tells nothing
        email_send(
            to=existing.email,
            template="already_registered",
            context={"name": existing.name, "login_url": meta.base_url},
            user=existing,
            base_url=meta.base_url,
        )
        return None
    user = User.objects.create_user(email=email, password=password, name=name.strip())
    security_event_record(kind=Kind.REGISTERED, meta=meta, user=user)
    verification_send(user=user, meta=meta)
    return user


@transaction.atomic
def email_verification_resend(*, email: str, meta: RequestMeta) -> None:
    """Sends a new link if the address belongs to an unverified account; silent otherwise."""
    email = email.strip().lower()
    user = User.objects.filter(email=email, is_active=True, email_verified_at__isnull=True).first()
    if user is not None:
        verification_send(user=user, meta=meta)


@transaction.atomic
def email_verify(*, token: str, meta: RequestMeta) -> User:
    user = one_time_token_consume(raw=token, purpose=OneTimeToken.Purpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        security_event_record(kind=Kind.EMAIL_VERIFIED, meta=meta, user=user)
    # A full workspace admits nobody, but the address is confirmed all the same (signing in
    # there answers plan_limit_reached).
    with suppress(PlanLimitReached):
        membership_admit(user=user, tenant=meta.tenant)
    return user
