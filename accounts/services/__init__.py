"""Every write of the accounts app, one module per sub-domain; this package re-exports them.

- registration: registering on a workspace's host, email verification
- signin: password sign-in and its MFA second step
- sessions: starting, refreshing (rotation), signing out, revoking
- passwords: reset by email, change
- mfa: TOTP enrolment, recovery codes, turning MFA off
- users: profile update, deactivation
- events: the security event log
- cleanup: expired sessions, spent tokens, accounts never confirmed
- memberships, workspaces: who belongs to a workspace, provisioning one with its owner
"""

from accounts.services._common import RequestMeta
from accounts.services.cleanup import accounts_cleanup, unverified_accounts_purge
from accounts.services.events import security_event_record
from accounts.services.memberships import membership_admit, membership_remove, membership_set
from accounts.services.mfa import mfa_disable, recovery_codes_regenerate, totp_confirm, totp_enroll
from accounts.services.passwords import password_change, password_forgot, password_reset
from accounts.services.registration import email_verification_resend, email_verify, user_register
from accounts.services.sessions import (
    logout,
    logout_all,
    session_refresh,
    session_revoke,
    session_revoke_for_user,
    session_start,
    sessions_revoke_for_tenant,
)
from accounts.services.signin import LoginResult, login, login_mfa_complete
from accounts.services.users import user_update, users_deactivate
from accounts.services.workspaces import tenant_create, tenant_signup, tenant_signup_confirm

__all__ = [
    "LoginResult",
    "RequestMeta",
    "accounts_cleanup",
    "email_verification_resend",
    "email_verify",
    "login",
    "login_mfa_complete",
    "logout",
    "logout_all",
    "membership_admit",
    "membership_remove",
    "membership_set",
    "mfa_disable",
    "password_change",
    "password_forgot",
    "password_reset",
    "recovery_codes_regenerate",
    "security_event_record",
    "session_refresh",
    "session_revoke",
    "session_revoke_for_user",
    "session_start",
    "sessions_revoke_for_tenant",
    "tenant_create",
    "tenant_signup",
    "tenant_signup_confirm",
    "totp_confirm",
    "totp_enroll",
    "unverified_accounts_purge",
    "user_register",
    "user_update",
    "users_deactivate",
]
