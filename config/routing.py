"""Websocket routes; each app adds its consumers here."""

from django.urls import path

from chat.consumers import ChatConsumer
from tenants.consumers import HealthConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    path("ws/chat/", ChatConsumer.as_asgi()),
]
