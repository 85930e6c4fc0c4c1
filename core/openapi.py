"""The OpenAPI description every view shares: error responses in the one shape, tags per app.

DEFAULT_SCHEMA_CLASS points at :class:`PlatformAutoSchema`. Every operation documents the error
statuses it can answer, each with the `Error` component (core.errors' shape):

- 400 when the operation writes or takes parameters (validation), 401 when it authenticates a
  Bearer token (a bad or expired one is refused even where anonymous callers are welcome),
- 403 and 404 always: a suspended workspace answers 403 and an unknown host 404 on every path,
- 409 on writes (state conflicts), 413 on multipart uploads, 429 when the view is throttled,
- and those a view lists in `schema_error_statuses` (e.g. 401 for wrong sign-in credentials).
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`code` says why; `fields` maps each field to its messages).",
    "401": "Missing, invalid or expired credentials.",
    "403": "Not allowed here (permission, membership, suspended workspace).",
    "404": "No such resource in this workspace, or no workspace at this host.",
    "409": "The resource is in a state that does not allow this.",
    "413": "The request body is too large.",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable reason.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Per-field messages on validation errors.",
    )


class ErrorSerializer(serializers.Serializer):
    """The one error shape: {"error": {"code", "message", "fields"?}}."""

    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


class PlatformAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        # One tag per app (the view's package), instead of the first path segment ("v1").
        return [self.view.__class__.__module__.split(".")[0]]

    def _error_statuses(self) -> list[str]:
        method = self.method.upper()
        statuses = ["403", "404"]
        has_input = method in WRITE_METHODS or bool(self._get_parameters())
        if has_input:
            statuses.append("400")
        if self.view.get_authenticators():
            statuses.append("401")
        if method in WRITE_METHODS:
            statuses.append("409")
        if method == "POST" and any(
            "multipart" in getattr(parser, "media_type", "") for parser in self.view.get_parsers()
        ):
            statuses.append("413")
        if self.view.get_throttles():
            statuses.append("429")
        # A view answering more than the rules above derive declares them.
        statuses += getattr(self.view, "schema_error_statuses", ())
        return sorted(set(statuses))

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for status in self._error_statuses():
            responses.setdefault(
                status,
                {
                    "content": {"application/json": {"schema": error}},
                    "description": ERROR_DESCRIPTIONS[status],
                },
            )
        return responses
