"""Domain errors of the uploads app."""

from rest_framework import status

from core.errors import Conflict, DomainError, Forbidden, NotFound


class UploadRejected(DomainError):
    """A file failed validation; `code` says why (too_large, unsupported_type, image_bomb...)."""

    code = "upload_rejected"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(message)
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class FileTooLarge(UploadRejected):
    code = "too_large"
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class QuotaExceeded(Forbidden):
    code = "quota_exceeded"
    default_message = "The workspace's storage quota would be exceeded."


class FileNotFound(NotFound):
    code = "file_not_found"
    default_message = "File not found."


class FileNotReady(Conflict):
    code = "file_not_ready"
    default_message = "The file is not ready yet."


class MultipartUnavailable(DomainError):
    code = "multipart_unavailable"
    status_code = status.HTTP_501_NOT_IMPLEMENTED
    default_message = "Direct multipart uploads need S3 storage."


class UploadStateConflict(Conflict):
    code = "upload_state"


class FilePrivate(Forbidden):
    code = "file_private"
    default_message = (
        "This file is private to the member who uploaded it: only they can open or download "
        "it. Workspace managers may rename or delete it."
    )


class LinkInvalid(Forbidden):
    code = "link_invalid"
    default_message = "This download link is invalid."


class LinkExpired(Forbidden):
    code = "link_expired"
    default_message = "This download link has expired."


class ProcessingRetryable(Exception):
    """A transient failure while processing (storage unreachable): the task retries."""
