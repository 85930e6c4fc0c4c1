"""Chat REST API: rooms, members, message history (cursor pages), read positions, unread counts."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.permissions import CanUseChat
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


class RoomPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-room__created_at", "-id")


class MessagePagination(CursorPagination):
    """Newest first; ids grow with time, so the id is a stable cursor."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class MemberPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "id"


class ChatView(APIView):
    permission_classes = [CanUseChat]


def _my_room(request, room_id):
    return selectors.membership_for(user=request.user, room_id=room_id)


class RoomListView(ChatView):
    @extend_schema(responses=MyRoomSerializer(many=True))
    def get(self, request):
        paginator = RoomPagination()
        page = paginator.paginate_queryset(selectors.rooms_for_user(request.user), request, self)
        return paginator.get_paginated_response(MyRoomSerializer(page, many=True).data)

    @extend_schema(request=RoomCreateSerializer, responses={201: MyRoomSerializer})
    def post(self, request):
        data = RoomCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.room_create(user=request.user, **data.validated_data)
        member = _my_room(request, room.pk)
        return Response(MyRoomSerializer(member).data, status=status.HTTP_201_CREATED)


class DirectRoomView(ChatView):
    @extend_schema(request=DirectRoomSerializer, responses={200: MyRoomSerializer})
    def post(self, request):
        data = DirectRoomSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room, created = services.room_direct_get_or_create(
            user=request.user, other_user_id=data.validated_data["user_id"]
        )
        return Response(
            MyRoomSerializer(_my_room(request, room.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RoomDetailView(ChatView):
    @extend_schema(responses=MyRoomSerializer)
    def get(self, request, room_id):
        return Response(MyRoomSerializer(_my_room(request, room_id)).data)

    @extend_schema(request=RoomUpdateSerializer, responses=MyRoomSerializer)
    def patch(self, request, room_id):
        data = RoomUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.room_rename(user=request.user, room_id=room_id, name=data.validated_data["name"])
        return Response(MyRoomSerializer(_my_room(request, room_id)).data)


class RoomArchiveView(ChatView):
    @extend_schema(request=None, responses=MyRoomSerializer)
    def post(self, request, room_id):
        services.room_archive(user=request.user, room_id=room_id)
        return Response(MyRoomSerializer(_my_room(request, room_id)).data)


class RoomLeaveView(ChatView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, room_id):
        services.room_member_remove(user=request.user, room_id=room_id, user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(ChatView):
    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, room_id):
        _my_room(request, room_id)
        paginator = MemberPagination()
        page = paginator.paginate_queryset(selectors.room_members(room_id=room_id), request, self)
        return paginator.get_paginated_response(MemberSerializer(page, many=True).data)

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


class MessageListView(ChatView):
    @extend_schema(parameters=[HistoryQuerySerializer], responses=MessageSerializer(many=True))
    def get(self, request, room_id):
        """History newest first: ?before=<message id>, ?after=<message id>, ?search=<text>."""
        _my_room(request, room_id)
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = selectors.messages_for_room(room_id=room_id, **query.validated_data)
        paginator = MessagePagination()
        page = paginator.paginate_queryset(messages, request, self)
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)

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


class ReadView(ChatView):
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
        _my_room(request, room_id)
        return Response({"results": selectors.room_read_positions(room_id=room_id)})


class UnreadView(ChatView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        counts = selectors.unread_counts(request.user)
        return Response(
            {"rooms": {str(k): v for k, v in counts.items()}, "total": sum(counts.values())}
        )
