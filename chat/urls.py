"""REST routes of the chat app, mounted by config.urls_tenant under /api/v1/chat/."""

from django.urls import path

from chat import views

urlpatterns = [
    path("rooms/", views.RoomListView.as_view(), name="chat-rooms"),
    path("rooms/direct/", views.DirectRoomView.as_view(), name="chat-direct"),
    path("rooms/<int:room_id>/", views.RoomDetailView.as_view(), name="chat-room"),
    path("rooms/<int:room_id>/archive/", views.RoomArchiveView.as_view(), name="chat-archive"),
    path("rooms/<int:room_id>/leave/", views.RoomLeaveView.as_view(), name="chat-leave"),
    path("rooms/<int:room_id>/members/", views.MemberListView.as_view(), name="chat-members"),
    path(
        "rooms/<int:room_id>/members/<uuid:user_id>/",
        views.MemberDetailView.as_view(),
        name="chat-member",
    ),
    path("rooms/<int:room_id>/messages/", views.MessageListView.as_view(), name="chat-messages"),
    path("rooms/<int:room_id>/read/", views.ReadView.as_view(), name="chat-read"),
    path("messages/<int:message_id>/", views.MessageDetailView.as_view(), name="chat-message"),
    path("messages/<int:message_id>/edits/", views.MessageEditsView.as_view(), name="chat-edits"),
    path("unread/", views.UnreadView.as_view(), name="chat-unread"),
]
