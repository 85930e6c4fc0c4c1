"""Registration on a workspace's host and email verification."""

from datetime import timedelta

from django.conf import settings
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
    """Creates an unverified user and emails a verification link.

    An address that already has a confirmed account gets a notice by email instead (see below
    for unconfirmed ones), and the caller
    answers exactly as for a new address, so registration never reveals who has an account.
    """
    if not meta.tenant.allow_self_signup:
        raise SignupClosed()
    email = User.objects.normalize_email(email).strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None and existing.email_verified_at is None and existing.is_active:
        # The newest registration of an unconfirmed address wins: its password replaces the
        # earlier one and earlier links die, so whoever squatted the address first cannot
        # own the account once its real owner registers and confirms.
        password_validate(password, user=existing, field_name="password")
        existing.set_password(password)
        existing.name = name.strip()
        existing.save(update_fields=["password", "name"])
        OneTimeToken.objects.filter(
            user=existing, purpose=OneTimeToken.Purpose.VERIFY_EMAIL, used_at__isnull=True
        ).update(used_at=timezone.now())
        membership_admit(user=existing, tenant=meta.tenant)
        verification_send(user=existing, meta=meta)
        return None
    if existing is not None:
        email_send(
            to=existing.email,
            template="already_registered",
            context={"name": existing.name, "login_url": meta.base_url},
            user=existing,
            base_url=meta.base_url,
        )
        return None
    password_validate(password, user=User(email=email, name=name), field_name="password")
    user = User.objects.create_user(email=email, password=password, name=name.strip())
    membership_admit(user=user, tenant=meta.tenant)
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
    return user
