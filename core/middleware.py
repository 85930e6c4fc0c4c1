"""API and websocket paths answer errors in the one shape, whatever DEBUG says."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.errors import error_response

JSON_PREFIXES = ("/api/", "/ws/")


class JsonErrorPagesMiddleware:
    """With DEBUG on, Django answers an unknown path with its HTML debug page (handler404 is
    only used with DEBUG off). Under /api/ and /ws/ clients expect JSON: a 404 that is not
    JSON already becomes the one error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith(JSON_PREFIXES)
            and "json" not in response.get("Content-Type", "")
        ):
            return error_response("not_found", "Not found.", 404)
        return response
