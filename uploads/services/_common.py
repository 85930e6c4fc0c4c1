"""Helpers the uploads services modules share: the tenant's quota check, tags, the status a
new file starts in and queueing its processing, and the S3 requirement of direct uploads."""

from django.db import connection, transaction

from uploads import selectors, storage
from uploads.errors import MultipartUnavailable, QuotaExceeded
from uploads.models import File

STREAM_CHUNK = 1024 * 1024


def _lock_quota() -> None:
    """Serialises quota checks of one tenant (an advisory lock held until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"uploads.quota:{connection.schema_name}"],
        )


def _check_quota(extra_bytes: int) -> None:
    _lock_quota()
    quota = selectors.tenant_quota_bytes()
    used = selectors.tenant_used_bytes()
    if used + extra_bytes > quota:
        raise QuotaExceeded(
            f"The workspace has {max(quota - used, 0):,} of {quota:,} bytes left; "
            f"this file needs {extra_bytes:,}."
        )


def _clean_tags(tags: list | None) -> list[str]:
    return sorted({str(tag).strip()[:50] for tag in tags or [] if str(tag).strip()})[:20]


def _initial_status(kind: str) -> str:
    return File.Status.PROCESSING if kind == File.Kind.IMAGE else File.Status.READY


def _enqueue_processing(file: File) -> None:
    if file.status != File.Status.PROCESSING:
        return
    from uploads.tasks import process_image

    file_id = str(file.id)
    transaction.on_commit(lambda: process_image.delay(file_id))


def _require_s3():
    backend = storage.file_storage()
    if not storage.is_s3(backend):
        raise MultipartUnavailable()
    return backend
