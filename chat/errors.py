"""Domain errors of the chat app (rendered once by core.errors, sent as error events on ws)."""

from core.errors import Conflict, DomainError, Forbidden, NotFound


class RoomNotFound(NotFound):
    code = "room_not_found"
    default_message = "No such room, or you are not a member of it."


class MessageNotFound(NotFound):
    code = "message_not_found"
    default_message = "No such message in your rooms."


class NotRoomMember(Forbidden):
    code = "not_a_member"
    default_message = "You are not a member of this room."


class ChatForbidden(Forbidden):
    code = "permission_denied"


class RoomArchived(Conflict):
    code = "room_archived"
    default_message = "The room is archived; it accepts no new messages or changes."


class InvalidChatData(DomainError):
    code = "invalid"
    default_message = "The data is not valid."


class MessageTooLong(DomainError):
    code = "message_too_long"
    default_message = "The message is too long."


class MessageDeleted(Conflict):
    code = "message_deleted"
    default_message = "The message was deleted."


class LastOwner(Conflict):
    code = "last_owner"
    default_message = "The last owner cannot leave; make another member owner first."
