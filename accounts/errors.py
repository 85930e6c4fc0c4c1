"""Domain errors of the accounts app (rendered by core.errors.api_exception_handler)."""

from rest_framework import status

from core.errors import Conflict, DomainError, Forbidden, NotFound


class Unauthenticated(DomainError):
    code = "not_authenticated"
    status_code = status.HTTP_401_UNAUTHORIZED
    default_message = "Authentication failed."


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    default_message = "The email address or password is incorrect."


class AccountLocked(Forbidden):
    code = "account_locked"
    default_message = "Too many failed sign-in attempts: the account is temporarily locked."


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    default_message = "Verify your email address before signing in."


class InvalidPassword(DomainError):
    code = "invalid"
    default_message = "The request contains invalid data."


class WrongPassword(DomainError):
    code = "wrong_password"
    default_message = "The password is incorrect."


class InvalidEmailToken(DomainError):
    code = "invalid_token"
    default_message = "This link is invalid, expired or already used."


class RefreshTokenInvalid(Unauthenticated):
    code = "token_not_valid"
    default_message = "The refresh token is invalid or expired."


class WrongTenantToken(Unauthenticated):
    code = "token_wrong_tenant"
    default_message = "This token was issued for another workspace."


class SessionEnded(Unauthenticated):
    code = "session_revoked"
    default_message = "This session has ended; sign in again."


class RefreshTokenRotated(Unauthenticated):
    code = "refresh_token_rotated"
    default_message = "This refresh token was just rotated; use the new one."


class RefreshTokenReused(Unauthenticated):
    code = "refresh_token_reused"
    default_message = "This refresh token was already used; the session has been revoked."


class MfaChallengeInvalid(Unauthenticated):
    code = "mfa_token_invalid"
    default_message = "The sign-in challenge is invalid or expired; sign in again."


class InvalidMfaCode(DomainError):
    code = "invalid_mfa_code"
    default_message = "The verification code is incorrect."


class MfaAlreadyEnabled(Conflict):
    code = "mfa_already_enabled"
    default_message = "Multi-factor authentication is already enabled."


class MfaNotEnrolled(Conflict):
    code = "mfa_not_enrolled"
    default_message = "Start enrolment first."


class MfaNotEnabled(Conflict):
    code = "mfa_not_enabled"
    default_message = "Multi-factor authentication is not enabled."


class SessionNotFound(NotFound):
    code = "not_found"
    default_message = "Session not found."


class NotAMember(Forbidden):
    code = "not_a_member"
    default_message = "This account is not a member of this workspace."


class SignupClosed(Forbidden):
    code = "signup_closed"
    default_message = "This workspace does not accept sign-ups; ask an administrator to invite you."
