"""The security event log: one row per sign-in, failure, lockout or account change."""

from accounts.models import SecurityEvent, User
from accounts.services._common import RequestMeta

Kind = SecurityEvent.Kind


def _meta_tenant(meta: RequestMeta | None):
    tenant = getattr(meta, "tenant", None)
    return tenant if getattr(tenant, "pk", None) else None


def security_event_record(
    *,
    kind: str,
    meta: RequestMeta | None = None,
    user: User | None = None,
    email: str = "",
    session_id=None,
    data: dict | None = None,
) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        email=email or (user.email if user else ""),
        tenant=_meta_tenant(meta),
        session_id=session_id,
        ip_address=meta.ip if meta else None,
        user_agent=(meta.user_agent if meta else "")[:512],
        data=data or {},
    )
