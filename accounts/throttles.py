"""Rate limits of the API (DRF throttling), kept in the platform-wide auth cache: a client's
budget is the same on every workspace host, so adding workspaces adds no tries."""

import hashlib

from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class PlatformRateThrottle(SimpleRateThrottle):
    """Counts in the auth cache (not prefixed with the schema, unlike the default cache)."""

    cache = caches["auth"]

    def get_rate(self):
        # A rate left empty ("") turns the limit off, like None.
        return super().get_rate() or None


class AuthRateThrottle(PlatformRateThrottle):
    """Per client IP and per endpoint, across hosts: rate "auth" of DEFAULT_THROTTLE_RATES."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": f"{self.scope}:{type(view).__name__}",
            "ident": self.get_ident(request),
        }


class AuthAccountThrottle(PlatformRateThrottle):
    """Per account and per endpoint, across hosts and client addresses: rate "auth_account".

    The account is the email address in the body (known or not, so the limit reveals nothing),
    or the signed-in user; requests naming neither are left to the per-IP limit.
    """

    scope = "auth_account"

    def get_cache_key(self, request, view):
        if request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            data = request.data if hasattr(request.data, "get") else {}
            email = data.get("email") or data.get("owner_email")
            if not isinstance(email, str) or not email.strip():
                return None
            ident = f"email:{_digest(email.strip().lower())}"
        return self.cache_format % {
            "scope": f"{self.scope}:{type(view).__name__}",
            "ident": ident,
        }


class UserRateThrottle(PlatformRateThrottle):
    """Every API request of a signed-in user, on any host: rate "user"."""

    scope = "user"

    def get_cache_key(self, request, view):
        if request.user is None or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(PlatformRateThrottle):
    """Every API request without a signed-in user, per client IP on any host: rate "anon"."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user is not None and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
