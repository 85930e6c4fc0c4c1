"""Rate limits of the authentication endpoints (DRF throttling on the Redis cache)."""

from rest_framework.throttling import SimpleRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Per client IP and per endpoint: rate "auth" of DEFAULT_THROTTLE_RATES."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": f"{self.scope}:{type(view).__name__}",
            "ident": self.get_ident(request),
        }
