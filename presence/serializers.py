"""Shapes of the presence REST API."""

from rest_framework import serializers


class PresenceQuerySerializer(serializers.Serializer):
    user_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)


class PresenceSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    online = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(allow_null=True)


class MyPresenceSerializer(serializers.Serializer):
    hidden = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(read_only=True, allow_null=True)
