"""Authentication API for single-page apps, served on tenant hosts under /api/v1/auth/."""

import ipaddress

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Session
from accounts.serializers import (
    DetailSerializer,
    EmailSerializer,
    LoginMfaSerializer,
    LoginResponseSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetSerializer,
    PasswordSerializer,
    RecoveryCodesSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SessionSerializer,
    TokenPairSerializer,
    TokenSerializer,
    TotpCodeSerializer,
    TotpEnrollResponseSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from accounts.throttles import AuthAccountThrottle, AuthRateThrottle
from accounts.tokens import SESSION_CLAIM
from core.pagination import cursor_pagination
from tenants.links import app_base_url
from tenants.serializers import SignupResultSerializer, SignupSerializer


def client_ip(request) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as NUM_PROXIES says
    (the same rule DRF's throttles use)."""
    address = request.META.get("REMOTE_ADDR")
    num_proxies = api_settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(num_proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def request_meta(request) -> services.RequestMeta:
    return services.RequestMeta(
        tenant=request.tenant,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        base_url=app_base_url(request.tenant),
    )


def current_session_id(request) -> str | None:
    return request.auth.get(SESSION_CLAIM) if request.auth is not None else None


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _accepted(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_202_ACCEPTED)


class PublicAuthView(APIView):
    """Endpoints used before signing in: no authentication, throttled per client IP and per
    account, on every host together."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle, AuthAccountThrottle]


class AuthenticatedAuthView(APIView):
    throttle_classes = [AuthRateThrottle, AuthAccountThrottle]


class RegisterView(PublicAuthView):
    @extend_schema(request=RegisterSerializer, responses={202: DetailSerializer})
    def post(self, request):
        data = _valid(RegisterSerializer, request)
        services.user_register(**data, meta=request_meta(request))
        return _accepted("Check your inbox for a link to confirm your email address.")


class VerifyEmailView(PublicAuthView):
    @extend_schema(request=TokenSerializer, responses={200: DetailSerializer})
    def post(self, request):
        data = _valid(TokenSerializer, request)
        services.email_verify(token=data["token"], meta=request_meta(request))
        return Response({"detail": "Your email address is confirmed; you can sign in."})


class ResendVerificationView(PublicAuthView):
    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer})
    def post(self, request):
        data = _valid(EmailSerializer, request)
        services.email_verification_resend(email=data["email"], meta=request_meta(request))
        return _accepted(
            "If this address belongs to an unconfirmed account, a new link is on its way."
        )


def _signed_in(result: services.LoginResult, request) -> Response:
    if result.mfa_token:
        return Response({"mfa_required": True, "mfa_token": result.mfa_token})
    context = {"current_session_id": result.session.pk}
    return Response(
        {
            "mfa_required": False,
            "access": result.tokens["access"],
            "refresh": result.tokens["refresh"],
            "session": SessionSerializer(result.session, context=context).data,
            "user": UserSerializer(
                result.user, context={"mfa_enabled": result.session.mfa_verified}
            ).data,
        }
    )


class LoginView(PublicAuthView):
    schema_error_statuses = ("401",)  # wrong credentials or token

    @extend_schema(request=LoginSerializer, responses={200: LoginResponseSerializer})
    def post(self, request):
        data = _valid(LoginSerializer, request)
        result = services.login(**data, meta=request_meta(request), request=request)
        return _signed_in(result, request)


class LoginMfaView(PublicAuthView):
    schema_error_statuses = ("401",)  # wrong credentials or token

    @extend_schema(request=LoginMfaSerializer, responses={200: LoginResponseSerializer})
    def post(self, request):
        data = _valid(LoginMfaSerializer, request)
        result = services.login_mfa_complete(**data, meta=request_meta(request))
        return _signed_in(result, request)


class RefreshView(PublicAuthView):
    schema_error_statuses = ("401",)  # wrong credentials or token

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        data = _valid(RefreshSerializer, request)
        session, tokens = services.session_refresh(
            refresh=data["refresh"], meta=request_meta(request)
        )
        context = {"current_session_id": session.pk}
        return Response({**tokens, "session": SessionSerializer(session, context=context).data})


class LogoutView(AuthenticatedAuthView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.logout(
            user=request.user, session_id=current_session_id(request), meta=request_meta(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(AuthenticatedAuthView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.logout_all(user=request.user, meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(ListAPIView):
    """My live sessions (devices) on this workspace; `current` marks the one making the call."""

    serializer_class = SessionSerializer
    pagination_class = cursor_pagination("-created_at", name="SessionPagination")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Session.objects.none()
        return selectors.sessions_active_for(user=self.request.user, tenant=self.request.tenant)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "current_session_id": current_session_id(self.request),
        }


class SessionDetailView(AuthenticatedAuthView):
    @extend_schema(responses={204: None})
    def delete(self, request, session_id):
        services.session_revoke_for_user(
            user=request.user, session_id=session_id, meta=request_meta(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordForgotView(PublicAuthView):
    @extend_schema(request=EmailSerializer, responses={202: DetailSerializer})
    def post(self, request):
        data = _valid(EmailSerializer, request)
        services.password_forgot(email=data["email"], meta=request_meta(request))
        return _accepted("If this address has an account, a reset link is on its way.")


class PasswordResetView(PublicAuthView):
    @extend_schema(request=PasswordResetSerializer, responses={200: DetailSerializer})
    def post(self, request):
        data = _valid(PasswordResetSerializer, request)
        services.password_reset(**data, meta=request_meta(request))
        return Response({"detail": "Your password is changed; sign in with the new one."})


class PasswordChangeView(AuthenticatedAuthView):
    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        data = _valid(PasswordChangeSerializer, request)
        services.password_change(
            user=request.user,
            session_id=current_session_id(request),
            meta=request_meta(request),
            **data,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpEnrollView(AuthenticatedAuthView):
    @extend_schema(request=None, responses={200: TotpEnrollResponseSerializer})
    def post(self, request):
        secret, uri = services.totp_enroll(user=request.user)
        return Response({"secret": secret, "otpauth_uri": uri})


class TotpConfirmView(AuthenticatedAuthView):
    @extend_schema(request=TotpCodeSerializer, responses={200: RecoveryCodesSerializer})
    def post(self, request):
        data = _valid(TotpCodeSerializer, request)
        codes = services.totp_confirm(
            user=request.user, code=data["code"], meta=request_meta(request)
        )
        return Response({"recovery_codes": codes})


class RecoveryCodesView(AuthenticatedAuthView):
    @extend_schema(request=PasswordSerializer, responses={200: RecoveryCodesSerializer})
    def post(self, request):
        data = _valid(PasswordSerializer, request)
        codes = services.recovery_codes_regenerate(
            user=request.user, password=data["password"], meta=request_meta(request)
        )
        return Response({"recovery_codes": codes})


class MfaDisableView(AuthenticatedAuthView):
    @extend_schema(request=PasswordSerializer, responses={204: None})
    def post(self, request):
        data = _valid(PasswordSerializer, request)
        services.mfa_disable(
            user=request.user, password=data["password"], meta=request_meta(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    def _render(self, user) -> Response:
        context = {"mfa_enabled": selectors.mfa_enabled_for(user=user)}
        return Response(UserSerializer(user, context=context).data)

    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return self._render(request.user)

    @extend_schema(request=UserUpdateSerializer, responses={200: UserSerializer})
    def patch(self, request):
        serializer = UserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._render(services.user_update(user=request.user, data=serializer.validated_data))


class SignupView(APIView):
    """Asks for a workspace with its owner (public host): the emailed link creates it.
    Throttled per client address; the same answer for every address."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle, AuthAccountThrottle]
    throttle_scope = "signup"

    @extend_schema(request=SignupSerializer, responses={202: DetailSerializer})
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.tenant_signup(**serializer.validated_data)
        return _accepted("Check your inbox for a link that creates the workspace.")


class SignupConfirmView(PublicAuthView):
    """Creates the workspace of an emailed sign-up link (each link works once)."""

    @extend_schema(request=TokenSerializer, responses={201: SignupResultSerializer})
    def post(self, request):
        data = _valid(TokenSerializer, request)
        tenant = services.tenant_signup_confirm(token=data["token"])
        domain = tenant.get_primary_domain().domain
        port = request.get_port()
        origin = f"{request.scheme}://{domain}" + (f":{port}" if port not in ("80", "443") else "")
        # The owner proved the address by following the link: they sign in (API or admin) now.
        result = {
            "tenant": tenant,
            "domain": domain,
            "api": f"{origin}/api/v1/",
            "admin": f"{origin}/admin/",
        }
        return Response(SignupResultSerializer(result).data, status=status.HTTP_201_CREATED)
