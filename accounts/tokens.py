"""JWT issuing: every token names the session and the tenant (schema) it was issued for."""

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, Token

TENANT_CLAIM = "tenant"
SESSION_CLAIM = "sid"


class SessionRefreshToken(Token):
    """A refresh token checked against its session row, not simplejwt's blacklist tables."""

    token_type = "refresh"
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME


def tokens_for_session(session, *, schema_name: str) -> dict[str, str]:
    """A new access + refresh pair for the session's current refresh jti."""
    refresh = SessionRefreshToken()
    refresh[api_settings.JTI_CLAIM] = session.refresh_jti
    refresh[api_settings.USER_ID_CLAIM] = str(session.user_id)
    refresh[TENANT_CLAIM] = schema_name
    refresh[SESSION_CLAIM] = str(session.id)
    access = AccessToken()
    access.set_exp(from_time=refresh.current_time)
    for claim in (api_settings.USER_ID_CLAIM, TENANT_CLAIM, SESSION_CLAIM):
        access[claim] = refresh[claim]
    return {"access": str(access), "refresh": str(refresh)}


def tokens_for_user(*, user, tenant) -> dict[str, str]:
    """Starts a real session for the user on the tenant and returns its tokens (tests, tools)."""
    from accounts.services import session_start

    _session, tokens = session_start(user=user, tenant=tenant)
    return tokens
