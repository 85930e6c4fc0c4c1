"""Minimal server-rendered pages for emailed links (verify email, reset password), so the links
work on a workspace without a single-page app. They call the same services as the API, behind
the same throttle, and post back with Django's CSRF protection."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from accounts import services
from accounts.throttles import AuthRateThrottle
from accounts.views import request_meta
from core.errors import DomainError


def _throttled(request: HttpRequest) -> bool:
    return not AuthRateThrottle().allow_request(request, None)


class _TokenPage(View):
    template_name = ""
    title = ""

    def _render(self, request, state: str, status: int = 200, **context) -> HttpResponse:
        token = request.POST.get("token") or request.GET.get("token", "")
        context = {"title": self.title, "state": state, "token": token, **context}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.GET.get("token"):
            return self._render(request, "error", 400, message="This link is incomplete.")
        return self._render(request, "confirm")

    def post(self, request: HttpRequest) -> HttpResponse:
        if _throttled(request):
            return self._render(request, "error", 429, message="Too many attempts; try later.")
        try:
            self.perform(request)
        except DomainError as exc:
            fields = exc.fields or {}
            messages = [m for values in fields.values() for m in values] or [exc.message]
            state = "confirm" if "password" in fields else "error"
            return self._render(request, state, 400, message=" ".join(map(str, messages)))
        return self._render(request, "done")

    def perform(self, request: HttpRequest) -> None:
        raise NotImplementedError


class VerifyEmailPage(_TokenPage):
    template_name = "accounts/verify_email.html"
    title = "Confirm your email address"

    def perform(self, request: HttpRequest) -> None:
        services.email_verify(token=request.POST.get("token", ""), meta=request_meta(request))


class ResetPasswordPage(_TokenPage):
    template_name = "accounts/reset_password.html"
    title = "Choose a new password"

    def perform(self, request: HttpRequest) -> None:
        services.password_reset(
            token=request.POST.get("token", ""),
            password=request.POST.get("password", ""),
            meta=request_meta(request),
        )
