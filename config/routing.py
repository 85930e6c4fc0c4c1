"""Websocket routes; each app adds its consumers here."""

from django.conf import settings
from django.urls import path

from chat.consumers import ChatConsumer
from tenants.consumers import HealthConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    path("ws/chat/", ChatConsumer.as_asgi()),
]

if settings.BENCH_BASELINE_VIEWS:
    from config import baseline_ws

    websocket_urlpatterns += [
        path("ws/bench/echo/", baseline_ws.EchoConsumer.as_asgi()),
        path("ws/bench/insert/", baseline_ws.InsertConsumer.as_asgi()),
    ]
