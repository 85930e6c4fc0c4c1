"""One ASGI application: Django for HTTP, Channels consumers for websockets, tenant-aware both."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

# A persistent connection (DATABASE_CONN_MAX_AGE > 0) belongs to the thread that opened it and
# is closed only at that thread's next request cycle; websocket consumers' database work runs on
# threads outside that cycle, where such connections were seen to pile up until PostgreSQL
# refused new clients. The pool hands every connection back when its work ends.
_db = settings.DATABASES["default"]
if _db.get("CONN_MAX_AGE") and not _db.get("OPTIONS", {}).get("pool"):
    raise ImproperlyConfigured(
        "DATABASE_CONN_MAX_AGE > 0 leaks connections under ASGI: set it to 0 and use the "
        "connection pool (DATABASE_POOL_MAX)."
    )

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from tenants.middleware import TenantWebsocketMiddleware, WebsocketOriginValidator  # noqa: E402
from uploads.asgi import RequestBodyLimitMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimitMiddleware(django_asgi_app),
        "websocket": WebsocketOriginValidator(
            TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)
