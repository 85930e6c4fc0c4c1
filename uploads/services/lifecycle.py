"""A file's life once it exists: metadata and expiry changes, deletion with its stored
objects, and the periodic clean-ups (expired files, abandoned multipart uploads)."""

import logging
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from uploads import storage
from uploads.models import File
from uploads.services._common import _clean_tags

logger = logging.getLogger(__name__)


def _existing_copy(*, owner, sha256: str) -> File | None:
    """The owner's live file with these bytes; one past its expiry is deleted, not reused."""
    existing = (
        File.objects.filter(owner=owner, sha256=sha256)
        .exclude(status__in=[File.Status.DELETED, File.Status.FAILED])
        .first()
    )
    if existing is not None and existing.expires_at and existing.expires_at <= timezone.now():
        file_delete(file=existing)
        return None
    return existing


@transaction.atomic
def file_update(
    *,
    file: File,
    name: str | None = None,
    tags: list | None = None,
    expires_at: datetime | None = None,
    clear_expiry: bool = False,
) -> File:
    fields = ["updated_at"]
    if name is not None:
        file.original_name = name.strip()[:255] or file.original_name
        fields.append("original_name")
    if tags is not None:
        file.tags = _clean_tags(tags)
        fields.append("tags")
    if expires_at is not None or clear_expiry:
        file.expires_at = expires_at
        fields.append("expires_at")
    file.save(update_fields=fields)
    return file


@transaction.atomic
def file_delete(*, file: File) -> File:
    """Marks the file deleted and removes its stored objects (original and variants)."""
    file = File.objects.select_for_update().get(pk=file.pk)
    if file.status == File.Status.DELETED:
        return file
    keys = [file.key] + [variant["key"] for variant in file.variants.values()]
    upload_id = file.upload_id
    file.status = File.Status.DELETED
    file.deleted_at = timezone.now()
    file.upload_id = ""
    file.save(update_fields=["status", "deleted_at", "upload_id", "updated_at"])
    transaction.on_commit(lambda: _remove_objects(keys=keys, upload_id=upload_id))
    return file


def _remove_objects(*, keys: list[str], upload_id: str = "") -> None:
    if upload_id:
        _abort_multipart(key=keys[0], upload_id=upload_id)
    try:
        storage.delete_keys(keys)
    except (OSError, BotoCoreError, ClientError):
        logger.exception("could not delete stored objects %s", keys)


def _abort_multipart(*, key: str, upload_id: str) -> None:
    backend = storage.file_storage()
    if not storage.is_s3(backend):
        return
    try:
        storage.s3_client(backend).abort_multipart_upload(
            Bucket=backend.bucket_name, Key=key, UploadId=upload_id
        )
    except ClientError as exc:
        if exc.response["Error"].get("Code") != "NoSuchUpload":
            raise


def files_delete_expired(*, now: datetime | None = None) -> int:
    """Deletes (objects and rows marked deleted) every live file whose expiry has passed."""
    now = now or timezone.now()
    count = 0
    expired = File.objects.filter(expires_at__lte=now).exclude(status=File.Status.DELETED)
    for file in expired.iterator():
        file_delete(file=file)
        count += 1
    return count


def uploads_abort_abandoned(*, now: datetime | None = None) -> int:
    """Aborts multipart uploads older than UPLOADS_MULTIPART_ABANDON_HOURS: those we track and
    any stray one under this tenant's prefix in the bucket."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.UPLOADS_MULTIPART_ABANDON_HOURS)
    count = 0
    # Uploads we track are aborted through file_delete (after commit), never as strays.
    tracked = set(
        File.objects.filter(status=File.Status.UPLOADING).values_list("upload_id", flat=True)
    )
    stale = File.objects.filter(status=File.Status.UPLOADING, created_at__lt=cutoff)
    for file in stale.iterator():
        with transaction.atomic():
            file_delete(file=file)
            File.objects.filter(pk=file.pk).update(error="The upload was abandoned.")
        count += 1
    backend = storage.file_storage()
    if storage.is_s3(backend):
        client = storage.s3_client(backend)
        paginator = client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(
            Bucket=backend.bucket_name, Prefix=f"{connection.schema_name}/"
        ):
            for upload in page.get("Uploads", []):
                if upload["UploadId"] in tracked or upload["Initiated"] >= cutoff:
                    continue
                _abort_multipart(key=upload["Key"], upload_id=upload["UploadId"])
                count += 1
    return count
