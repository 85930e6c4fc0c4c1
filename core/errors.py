"""The platform's one error shape and the one place domain errors become HTTP responses.

Every error response body is {"error": {"code": str, "message": str, "fields"?: {...}}}.
Apps raise subclasses of DomainError from their errors.py; views never build error bodies.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """Base of every app's domain errors; subclasses set the code and HTTP status."""

    code = "error"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, fields: dict | None = None, **extra: Any):
        self.message = message or self.default_message
        self.fields = fields
        self.extra = extra
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT
    default_message = "The resource changed or is in a state that does not allow this."


class Forbidden(DomainError):
    code = "forbidden"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "You do not have permission to do this."


def error_body(code: str, message: str, fields: dict | None = None, **extra: Any) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def error_response(code: str, message: str, status_code: int, **kwargs: Any) -> JsonResponse:
    """A plain Django JSON response in the error shape (for views outside DRF)."""
    return JsonResponse(error_body(code, message, **kwargs), status=status_code)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, (dict, list)) else _flatten(item) for item in detail
        ]
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return [str(detail)]


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.fields, **exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(
            "invalid", "The request contains invalid data.", _flatten(detail)
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        if isinstance(detail, dict) and "detail" in detail:  # simplejwt's {"detail", "code"}
            code = detail.get("code") or code
            detail = detail["detail"]
        response.data = error_body(str(code), str(detail))
    return response


def page_not_found(request, exception=None):
    return error_response("not_found", "Not found.", 404)


def server_error(request):
    return error_response("server_error", "An unexpected error occurred.", 500)


def permission_denied(request, exception=None):
    return error_response("forbidden", "You do not have permission to do this.", 403)


def bad_request(request, exception=None):
    return error_response("bad_request", "Bad request.", 400)
