"""Failed sign-in counting and temporary lockout per email address (known or not, so the
answers never reveal whether an account exists). State lives in the platform-wide auth cache."""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone


def _now() -> datetime:
    return timezone.now()


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"lockout:failures:{digest}", f"lockout:until:{digest}"


def _window() -> int:
    return settings.ACCOUNTS["LOCKOUT_MINUTES"] * 60


def locked_until(email: str) -> datetime | None:
    """When the lock on this email ends, or None if it is not locked."""
    cache = caches["auth"]
    failures_key, until_key = _keys(email)
    until = cache.get(until_key)
    if until is None:
        return None
    until = datetime.fromisoformat(until)
    if until <= _now():
        cache.delete_many([failures_key, until_key])
        return None
    return until


def failure_record(email: str) -> datetime | None:
    """Counts a failed attempt; returns the lock's end when this attempt locks the account."""
    cache = caches["auth"]
    failures_key, until_key = _keys(email)
    cache.add(failures_key, 0, _window())
    failures = cache.incr(failures_key)
    if failures >= settings.ACCOUNTS["LOCKOUT_ATTEMPTS"]:
        until = _now() + timedelta(minutes=settings.ACCOUNTS["LOCKOUT_MINUTES"])
        cache.set(until_key, until.isoformat(), _window() + 60)
        cache.delete(failures_key)
        return until
    return None


def failures_clear(email: str) -> None:
    caches["auth"].delete_many(list(_keys(email)))
