"""Shapes of the chat REST API (validation of input, rendering of output)."""

from rest_framework import serializers

from chat.models import Message, MessageEdit, Room, RoomMember


class RoomSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "kind", "name", "archived_at", "last_message_at", "created_at"]


class MyRoomSerializer(serializers.ModelSerializer):
    """A room as one of its members sees it (from their RoomMember row)."""

    id = serializers.IntegerField(source="room.id")
    kind = serializers.CharField(source="room.kind")
    name = serializers.CharField(source="room.name")
    archived_at = serializers.DateTimeField(source="room.archived_at", allow_null=True)
    last_message_at = serializers.DateTimeField(source="room.last_message_at", allow_null=True)
    created_at = serializers.DateTimeField(source="room.created_at")
    my_role = serializers.CharField(source="role")
    unread_count = serializers.IntegerField()

    class Meta:
        model = RoomMember
        fields = [
            "id",
            "kind",
            "name",
            "archived_at",
            "last_message_at",
            "created_at",
            "my_role",
            "last_read_message_id",
            "unread_count",
        ]


class RoomCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    member_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=1000
    )


class DirectRoomSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()


class RoomUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class MemberSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = RoomMember
        fields = ["user_id", "email", "role", "last_read_message_id", "created_at"]


class MemberAddSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=RoomMember.Role.choices, default=RoomMember.Role.MEMBER)


class MessageSerializer(serializers.ModelSerializer):
    sender_id = serializers.UUIDField(read_only=True)
    body = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "room_id",
            "sender_id",
            "client_id",
            "body",
            "created_at",
            "edited_at",
            "deleted",
        ]

    def get_body(self, obj) -> str:
        return "" if obj.deleted_at else obj.body

    def get_deleted(self, obj) -> bool:
        return obj.deleted_at is not None


class MessageSendSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False)
    client_id = serializers.CharField(max_length=64, required=False, default="")


class MessageEditSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False)


class MessageEditHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageEdit
        fields = ["body", "edited_at"]


class HistoryQuerySerializer(serializers.Serializer):
    before = serializers.IntegerField(required=False, min_value=1)
    after = serializers.IntegerField(required=False, min_value=0)
    search = serializers.CharField(required=False, default="", max_length=200)


class ReadSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(min_value=1)
