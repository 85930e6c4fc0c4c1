"""Notifications API (in-app notifications, preferences) and the one-click unsubscribe page."""

from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError
from core.pagination import DefaultCursorPagination, paginated_response
from notifications import selectors, services
from notifications.models import Notification
from notifications.serializers import (
    NotificationListQuerySerializer,
    NotificationSerializer,
    PreferenceSerializer,
    PreferenceUpdateSerializer,
    UnreadCountSerializer,
)


class NotificationViewSet(viewsets.GenericViewSet):
    """The caller's own in-app notifications, newest first."""

    lookup_value_converter = "uuid"
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        query = NotificationListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.notifications_for_user(
            user=self.request.user, unread=query.validated_data["unread"]
        )

    @extend_schema(parameters=[NotificationListQuerySerializer])
    def list(self, request):
        return paginated_response(
            pagination_class=DefaultCursorPagination,
            serializer_class=NotificationSerializer,
            queryset=self.get_queryset(),
            request=request,
            view=self,
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=UnreadCountSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        services.notifications_mark_all_read(user=request.user)
        return Response({"unread": 0})

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": selectors.unread_count(user=request.user)})


class PreferencesView(APIView):
    """The caller's per-category choices; account and security emails cannot be turned off."""

    @extend_schema(responses=PreferenceSerializer(many=True))
    def get(self, request):
        data = selectors.preferences_for_email(email=request.user.email)
        return Response(PreferenceSerializer(data, many=True).data)

    @extend_schema(request=PreferenceUpdateSerializer, responses=PreferenceSerializer(many=True))
    def patch(self, request):
        serializer = PreferenceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.preference_set(
            email=request.user.email,
            category=data["category"],
            email_enabled=data.get("email"),
            in_app=data.get("in_app"),
        )
        return self.get(request)


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """GET shows a confirmation page (link scanners must not unsubscribe anyone); POST
    unsubscribes, both from that page and as the RFC 8058 one-click request mail clients send
    ("List-Unsubscribe=One-Click"). The signed token is the only credential."""

    template_name = "notifications/unsubscribe.html"

    def _error(self, request, message: str):
        context = {"title": "Link not valid", "state": "error", "message": message}
        return render(request, self.template_name, context, status=400)

    def get(self, request, token: str):
        try:
            payload = selectors.unsubscribe_request(token=token)
        except DomainError as exc:
            return self._error(request, exc.message)
        context = {"title": "Unsubscribe", "state": "confirm", **payload}
        return render(request, self.template_name, context)

    def post(self, request, token: str):
        try:
            payload = selectors.unsubscribe_request(token=token)
            services.unsubscribe(email=payload["email"], category=payload["category"].key)
        except DomainError as exc:
            return self._error(request, exc.message)
        context = {"title": "You are unsubscribed", "state": "done", **payload}
        return render(request, self.template_name, context, status=status.HTTP_200_OK)
