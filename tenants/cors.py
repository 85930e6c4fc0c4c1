"""CORS for the API: platform-wide origins from settings, and each workspace's own origins."""

import re

from corsheaders.conf import conf
from corsheaders.middleware import CorsMiddleware
from django.http import HttpRequest


class TenantCorsMiddleware(CorsMiddleware):
    """django-cors-headers' middleware that also admits the origins the request's workspace
    lists (Tenant.cors_allowed_origins), on API paths only. The tenant comes from the host
    resolution memo, so this costs no query."""

    def check_signal(self, request: HttpRequest) -> bool:
        if re.match(conf.CORS_URLS_REGEX, request.path_info):
            origin = request.headers.get("origin")
            origins = getattr(getattr(request, "tenant", None), "cors_allowed_origins", None)
            if origin and origin in (origins or ()):
                return True
        return super().check_signal(request)
