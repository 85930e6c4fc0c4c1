"""Presence REST API: bulk presence of users, and the caller's own setting (hide presence)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.response import Response
from rest_framework.views import APIView

from presence import selectors, services
from presence.permissions import CanSeePresence
from presence.serializers import MyPresenceSerializer, PresenceQuerySerializer, PresenceSerializer


class PresenceQueryView(APIView):
    permission_classes = [CanSeePresence]

    @extend_schema(
        request=PresenceQuerySerializer,
        responses=inline_serializer(
            "PresenceQueryResult", {"results": PresenceSerializer(many=True)}
        ),
    )
    def post(self, request):
        """Presence of up to 500 users at once (members of this workspace only)."""
        data = PresenceQuerySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = selectors.presence_for_users(
            viewer=request.user, user_ids=data.validated_data["user_ids"]
        )
        return Response({"results": PresenceSerializer(rows, many=True).data})


class MyPresenceView(APIView):
    permission_classes = [CanSeePresence]

    @extend_schema(responses=MyPresenceSerializer)
    def get(self, request):
        return Response(MyPresenceSerializer(selectors.status_for(request.user)).data)

    @extend_schema(request=MyPresenceSerializer, responses=MyPresenceSerializer)
    def patch(self, request):
        data = MyPresenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        status = services.presence_hidden_set(
            user=request.user, hidden=data.validated_data["hidden"]
        )
        return Response(MyPresenceSerializer(status).data)
