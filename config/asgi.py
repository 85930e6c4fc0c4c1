"""One ASGI application: Django for HTTP, Channels consumers for websockets, tenant-aware both."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

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
