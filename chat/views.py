"""Chat REST API: rooms, members, message history (cursor pages), read positions, unread counts."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.permissions import CanReadRoom, CanUseChat
from chat.serializers import (
    DirectRoomSerializer,
    HistoryQuerySerializer,
    MemberAddSerializer,
    MemberSerializer,
    MessageEditHistorySerializer,
    MessageEditSerializer,
    MessageSendSerializer,
    MessageSerializer,
    MyRoomSerializer,
    ReadSerializer,
    RoomCreateSerializer,
    RoomUpdateSerializer,
)
from core.pagination import cursor_pagination, paginated_response

RoomPagination = cursor_pagination(("-room__created_at", "-id"), name="RoomPagination")
# Newest first; ids grow with time, so the id is a stable cursor.
MessagePagination = cursor_pagination("-id", name="MessagePagination")
MemberPagination = cursor_pagination(
    "id", page_size=100, max_page_size=500, name="MemberPagination"
)


class ChatView(APIView):
    permission_classes = [CanUseChat]


# A room's members, messages and read positions are readable by its members only. (A comment,
# not a docstring: the API schema would show it on every such endpoint.)
class RoomContentView(ChatView):
    permission_classes = [CanUseChat, CanReadRoom]


class RoomListView(ChatView):
    pagination_class = RoomPagination

    @extend_schema(responses=MyRoomSerializer(many=True))
    def get(self, request):
        return paginated_response(
            pagination_class=self.pagination_class,
            serializer_class=MyRoomSerializer,
            queryset=selectors.rooms_for_user(request.user),
            request=request,
            view=self,
        )

    @extend_schema(request=RoomCreateSerializer, responses={201: MyRoomSerializer})
    def post(self, request):
        data = RoomCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.room_create(user=request.user, **data.validated_data)
        member = selectors.membership_for(user=request.user, room_id=room.pk)
        return Response(MyRoomSerializer(member).data, status=status.HTTP_201_CREATED)


class DirectRoomView(ChatView):
    @extend_schema(request=DirectRoomSerializer, responses={200: MyRoomSerializer})
    def post(self, request):
        data = DirectRoomSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room, created = services.room_direct_get_or_create(
            user=request.user, other_user_id=data.validated_data["user_id"]
        )
        member = selectors.membership_for(user=request.user, room_id=room.pk)
        return Response(
            MyRoomSerializer(member).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RoomDetailView(ChatView):
    @extend_schema(responses=MyRoomSerializer)
    def get(self, request, room_id):
        member = selectors.membership_for(user=request.user, room_id=room_id)
        return Response(MyRoomSerializer(member).data)

    @extend_schema(request=RoomUpdateSerializer, responses=MyRoomSerializer)
    def patch(self, request, room_id):
        data = RoomUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.room_rename(user=request.user, room_id=room_id, name=data.validated_data["name"])
        member = selectors.membership_for(user=request.user, room_id=room_id)
        return Response(MyRoomSerializer(member).data)


class RoomArchiveView(ChatView):
    @extend_schema(request=None, responses=MyRoomSerializer)
    def post(self, request, room_id):
        services.room_archive(user=request.user, room_id=room_id)
        member = selectors.membership_for(user=request.user, room_id=room_id)
        return Response(MyRoomSerializer(member).data)


class RoomLeaveView(ChatView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, room_id):
        services.room_member_remove(user=request.user, room_id=room_id, user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(RoomContentView):
    pagination_class = MemberPagination

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, room_id):
        return paginated_response(
            pagination_class=self.pagination_class,
            serializer_class=MemberSerializer,
            queryset=selectors.room_members(room_id=room_id),
            request=request,
            view=self,
        )

    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer})
    def post(self, request, room_id):
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.room_member_add(user=request.user, room_id=room_id, **data.validated_data)
        member = selectors.room_members(room_id=room_id).get(pk=member.pk)
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailView(ChatView):
    @extend_schema(responses={204: None})
    def delete(self, request, room_id, user_id):
        services.room_member_remove(user=request.user, room_id=room_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListView(RoomContentView):
    pagination_class = MessagePagination

    @extend_schema(parameters=[HistoryQuerySerializer], responses=MessageSerializer(many=True))
    def get(self, request, room_id):
        """History newest first: ?before=<message id>, ?after=<message id>, ?search=<text>."""
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return paginated_response(
            pagination_class=self.pagination_class,
            serializer_class=MessageSerializer,
            queryset=selectors.messages_for_room(room_id=room_id, **query.validated_data),
            request=request,
            view=self,
        )

    @extend_schema(request=MessageSendSerializer, responses={201: MessageSerializer})
    def post(self, request, room_id):
        data = MessageSendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = services.message_send(
            user=request.user, room_id=room_id, **data.validated_data
        )
        return Response(
            MessageSerializer(message).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageDetailView(ChatView):
    @extend_schema(responses=MessageSerializer)
    def get(self, request, message_id):
        return Response(
            MessageSerializer(
                selectors.message_for_user(user=request.user, message_id=message_id)
            ).data
        )

    @extend_schema(request=MessageEditSerializer, responses=MessageSerializer)
    def patch(self, request, message_id):
        data = MessageEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_edit(
            user=request.user, message_id=message_id, body=data.validated_data["body"]
        )
        return Response(MessageSerializer(message).data)

    @extend_schema(responses={204: None})
    def delete(self, request, message_id):
        services.message_delete(user=request.user, message_id=message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageEditsView(ChatView):
    @extend_schema(responses=MessageEditHistorySerializer(many=True))
    def get(self, request, message_id):
        message = selectors.message_for_user(user=request.user, message_id=message_id)
        edits = selectors.message_edits(message=message)
        return Response(MessageEditHistorySerializer(edits, many=True).data)


class ReadView(RoomContentView):
    @extend_schema(request=ReadSerializer, responses={204: None})
    def post(self, request, room_id):
        data = ReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.room_mark_read(
            user=request.user, room_id=room_id, message_id=data.validated_data["message_id"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: dict})
    def get(self, request, room_id):
        """Every member's read position (for read receipts)."""
        return Response({"results": selectors.room_read_positions(room_id=room_id)})


class UnreadView(ChatView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        counts = selectors.unread_counts(request.user)
        return Response(
            {"rooms": {str(k): v for k, v in counts.items()}, "total": sum(counts.values())}
        )
