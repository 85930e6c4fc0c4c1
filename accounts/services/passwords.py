"""Passwords: the emailed reset and the signed-in change (both end other sessions)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import lockout
from accounts.errors import WrongPassword
from accounts.models import OneTimeToken, Session, User
from accounts.services._common import (
    RequestMeta,
    link_with_token,
    one_time_token_consume,
    one_time_token_issue,
    password_validate,
    sessions_revoke,
)
from accounts.services.events import Kind, security_event_record
from notifications.services import email_send, notify


def _password_changed_notify(*, user: User, meta: RequestMeta) -> None:
    """Security alert, by email and in the app of the tenant where it happened."""
    notify(user=user, template="password_changed", base_url=meta.base_url)


@transaction.atomic
def password_forgot(*, email: str, meta: RequestMeta) -> None:
    """Emails a reset link to an active member of the host's workspace; silent otherwise.

    Accounts are platform-wide, but a workspace's host sends its own emails (its name, its
    links): only its members may be sent one, so no workspace can mail a reset to anyone else.
    """
    user = User.objects.filter(
        email=email.strip().lower(), is_active=True, memberships__tenant=meta.tenant
    ).first()
    if user is None:
        return
    raw = one_time_token_issue(
        user=user,
        purpose=OneTimeToken.Purpose.RESET_PASSWORD,
        lifetime=timedelta(minutes=settings.ACCOUNTS["PASSWORD_RESET_MINUTES"]),
    )
    security_event_record(kind=Kind.PASSWORD_RESET_REQUESTED, meta=meta, user=user)
    link = link_with_token(meta, settings.ACCOUNTS["RESET_PASSWORD_PATH"], raw)
    email_send(
        to=user.email,
        template="password_reset",
        context={
            "name": user.name,
            "link": link,
            "minutes": settings.ACCOUNTS["PASSWORD_RESET_MINUTES"],
        },
        user=user,
        base_url=meta.base_url,
    )


@transaction.atomic
def password_reset(*, token: str, password: str, meta: RequestMeta) -> User:
    """Sets a new password from an emailed token and signs the user out everywhere."""
    user = one_time_token_consume(raw=token, purpose=OneTimeToken.Purpose.RESET_PASSWORD)
    password_validate(password, user=user, field_name="password")
    user.set_password(password)
    # Following the link proves the mailbox: an unverified account becomes verified.
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.save(update_fields=["password", "email_verified_at"])
    OneTimeToken.objects.filter(
        user=user, purpose=OneTimeToken.Purpose.RESET_PASSWORD, used_at__isnull=True
    ).update(used_at=timezone.now())
    sessions_revoke(Session.objects.filter(user=user), reason="password_reset")
    lockout.failures_clear(user.email)
    security_event_record(kind=Kind.PASSWORD_RESET, meta=meta, user=user)
    _password_changed_notify(user=user, meta=meta)
    return user


@transaction.atomic
def password_change(
    *, user: User, current_password: str, new_password: str, session_id, meta: RequestMeta
) -> None:
    """Changes the password (the current one is required) and revokes every other session."""
    if not user.check_password(current_password):
        raise WrongPassword(fields={"current_password": ["The password is incorrect."]})
    password_validate(new_password, user=user, field_name="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    sessions_revoke(
        Session.objects.filter(user=user).exclude(pk=session_id), reason="password_changed"
    )
    security_event_record(kind=Kind.PASSWORD_CHANGED, meta=meta, user=user, session_id=session_id)
    _password_changed_notify(user=user, meta=meta)
