"""Demo data of the chat app: a "General" room owned by the demo admin with a welcome message."""

from chat import services
from chat.models import Message, Room


def seed(*, tenant, owner) -> str:
    room = Room.objects.filter(kind=Room.Kind.GROUP, name="General").first()
    if room is None:
        room = services.room_create(user=owner, name="General")
    services.message_send(
        user=owner,
        room_id=room.pk,
        body="Welcome! Open /ws/chat/ with your access token to talk in real time.",
        client_id="demo-welcome",
    )
    return f"{Room.objects.count()} rooms, {Message.objects.count()} messages"
