"""Domain errors of the notifications app."""

from core.errors import Conflict, DomainError, NotFound


class UnknownCategory(DomainError):
    code = "unknown_category"
    default_message = "There is no such notification category."


class EssentialCategory(DomainError):
    code = "essential_category"
    default_message = "Account and security emails cannot be turned off."


class SenderNotAllowed(DomainError):
    code = "sender_not_allowed"
    default_message = "Emails cannot be sent from this address."


class UnsubscribeLinkInvalid(DomainError):
    code = "invalid_link"
    default_message = "This unsubscribe link is invalid or has expired."


class NotificationNotFound(NotFound):
    code = "not_found"
    default_message = "Notification not found."


class MessageNotResendable(Conflict):
    code = "not_resendable"
    default_message = (
        "This message carried a one-time link and cannot be resent; ask for a new one instead."
    )
