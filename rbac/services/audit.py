"""The rbac audit log: one AuditEntry (who, what, when) per write."""

from __future__ import annotations

from rbac.models import AuditEntry


def audit_record(*, actor, action: str, target, changes: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.model_name,
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        changes=changes or {},
    )
