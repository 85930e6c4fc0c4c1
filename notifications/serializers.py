"""Shapes of the notifications API."""

from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "category", "title", "body", "url", "data", "is_read", "read_at"]
        fields += ["created_at"]
        read_only_fields = fields

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationListQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class PreferenceSerializer(serializers.Serializer):
    category = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    essential = serializers.BooleanField(read_only=True)
    email = serializers.BooleanField(read_only=True)
    in_app = serializers.BooleanField(read_only=True)


class PreferenceUpdateSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=50)
    email = serializers.BooleanField(required=False)
    in_app = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if "email" not in attrs and "in_app" not in attrs:
            raise serializers.ValidationError("Give email, in_app or both.")
        return attrs


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()
