"""Reads of the uploads app: what a user may see, download links, usage and quota, multipart
progress."""

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from rbac import access
from tenants.plans import plan_limit
from uploads import permissions, storage
from uploads.errors import FileNotFound, FileNotReady
from uploads.models import File


def files_visible_to(*, user) -> QuerySet[File]:
    """The caller's own live files and the tenant's public files that are ready; users who may
    manage other people's files (RBAC files.file:update) see every live file.

    A file past its expiry is gone for the API at once, before the clean-up removes it.
    """
    live = File.objects.exclude(status=File.Status.DELETED).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    if access.has_permission(user, "files.file", "update"):
        return live
    return live.filter(Q(owner=user) | Q(is_private=False, status=File.Status.READY))


def file_list(
    *,
    user,
    kind: str | None = None,
    search: str | None = None,
    mine: bool = False,
    status: str | None = None,
    tag: str | None = None,
) -> QuerySet[File]:
    files = files_visible_to(user=user)
    if mine:
        files = files.filter(owner=user)
    if kind:
        files = files.filter(kind=kind)
    if status:
        files = files.filter(status=status)
    if search:
        files = files.filter(original_name__icontains=search.strip())
    if tag:
        files = files.filter(tags__contains=[tag])
    return files


def file_get(*, user, file_id) -> File | None:
    return files_visible_to(user=user).filter(pk=file_id).first()


def download_link(*, file: File, variant: str) -> dict:
    """{"url", "expires_at", "content_type"} of the bytes of a ready file ("original") or of one
    of its variants: permanent for public files, short-lived and signed otherwise. On disk
    storage the url is a path on the tenant's host."""
    if file.status != File.Status.READY:
        raise FileNotReady(f"The file is {file.status}.")
    if variant == "original":
        key, content_type, name = file.key, file.content_type, file.original_name
    else:
        if variant not in file.variants:
            raise FileNotFound(f'This file has no "{variant}" variant.')
        key, content_type = file.variants[variant]["key"], "image/webp"
        name = f"{file.original_name.rsplit('.', 1)[0]}-{variant}.webp"
    if not file.is_private:
        url = storage.public_url(key, filename=name, content_type=content_type)
        expires_at = None
    else:
        url, expires_at = storage.signed_url(key, filename=name, content_type=content_type)
    return {"url": url, "expires_at": expires_at, "content_type": content_type}


def _usage(files: QuerySet[File]) -> dict:
    live = files.exclude(status=File.Status.DELETED)
    totals = live.aggregate(
        files=Count("id"),
        bytes=Coalesce(Sum("size"), 0) + Coalesce(Sum("variants_size"), 0),
    )
    by_kind = {
        row["kind"]: {"files": row["files"], "bytes": row["bytes"]}
        for row in live.values("kind")
        .order_by("kind")
        .annotate(files=Count("id"), bytes=Coalesce(Sum("size"), 0))
    }
    return {**totals, "by_kind": by_kind}


def user_usage(*, user) -> dict:
    return _usage(File.objects.filter(owner=user))


def tenant_usage() -> dict:
    return _usage(File.objects.all())


def usage_visible_to(*, user, tenant) -> dict:
    """The caller's storage usage, and the workspace's with its quota for those who may see it."""
    usage = {"user": user_usage(user=user)}
    if permissions.sees_workspace_usage(user=user, tenant=tenant):
        usage["tenant"] = {**tenant_usage(), "quota_bytes": tenant_quota_bytes()}
    return usage


def tenant_used_bytes() -> int:
    """Bytes counted against the quota: every file not deleted, reserved uploads included."""
    totals = File.objects.exclude(status=File.Status.DELETED).aggregate(
        size=Coalesce(Sum("size"), 0), variants=Coalesce(Sum("variants_size"), 0)
    )
    return totals["size"] + totals["variants"]


def tenant_quota_bytes() -> int:
    """The workspace plan's storage limit in bytes; the plan follows its subscription."""
    tenant = getattr(connection, "tenant", None)
    return plan_limit(tenant, "storage_bytes")


def multipart_parts(*, file: File) -> list[dict]:
    """Parts S3 has received so far (for resuming an interrupted upload)."""
    backend = storage.file_storage()
    client = storage.s3_client(backend)
    parts: list[dict] = []
    paginator = client.get_paginator("list_parts")
    for page in paginator.paginate(
        Bucket=backend.bucket_name, Key=file.key, UploadId=file.upload_id
    ):
        parts.extend(page.get("Parts", []))
    return parts
