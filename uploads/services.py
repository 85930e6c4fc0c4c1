"""Every write of the uploads app: receiving files, direct-to-S3 multipart uploads, image
processing, metadata changes, deletion and the periodic clean-ups."""

import hashlib
import logging
import math
import shutil
import tempfile
import uuid
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from PIL import Image, ImageOps

from uploads import selectors, storage
from uploads.errors import (
    MultipartUnavailable,
    ProcessingRetryable,
    QuotaExceeded,
    UploadRejected,
    UploadStateConflict,
)
from uploads.models import File
from uploads.sniff import HEAD_SIZE, sniff
from uploads.validation import (
    ALLOWED_TYPES,
    DEEP_INSPECTION_TYPES,
    EXTENSIONS,
    check_size,
    inspect_file,
    pixel_limit,
)

logger = logging.getLogger(__name__)

STREAM_CHUNK = 1024 * 1024
THUMBNAIL_SIZE = (300, 300)
WEBP_MAX_SIDE = 2048


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


def _initial_status(kind: str) -> str:
    return File.Status.PROCESSING if kind == File.Kind.IMAGE else File.Status.READY


def _enqueue_processing(file: File) -> None:
    if file.status != File.Status.PROCESSING:
        return
    from uploads.tasks import process_image

    file_id = str(file.id)
    transaction.on_commit(lambda: process_image.delay(file_id))


# --- Uploads through the API ----------------------------------------------------------------


def file_upload(
    *,
    owner,
    uploaded,
    is_private: bool = False,
    tags: list | None = None,
    expires_at: datetime | None = None,
) -> tuple[File, bool]:
    """Validates and stores one received file; returns (file, created).

    `uploaded` is a file on local disk already hashed by uploads.handlers.HashingUploadHandler.
    The same bytes uploaded again by the same owner return the existing file, stored once.
    """
    inspection = inspect_file(
        path=uploaded.temporary_file_path(),
        head=uploaded.head,
        name=uploaded.name or "",
        size=uploaded.size,
    )
    existing = _existing_copy(owner=owner, sha256=uploaded.sha256)
    if existing is not None:
        return existing, False

    file_id = uuid.uuid4()
    key = storage.make_key(
        file_id=file_id,
        is_private=is_private,
        extension=inspection.extension,
        when=timezone.now(),
    )
    # 1. Reserve: quota check and the row (its unique owner+sha256 catches concurrent copies).
    #    Short, so the tenant's quota lock is never held while bytes travel.
    try:
        with transaction.atomic():
            _check_quota(uploaded.size)
            file = File.objects.create(
                id=file_id,
                owner=owner,
                original_name=(uploaded.name or "file")[:255],
                key=key,
                content_type=inspection.content_type,
                size=uploaded.size,
                sha256=uploaded.sha256,
                kind=inspection.kind,
                status=File.Status.UPLOADING,
                is_private=is_private,
                tags=_clean_tags(tags),
                metadata=inspection.metadata,
                expires_at=expires_at,
            )
    except IntegrityError:
        existing = _existing_copy(owner=owner, sha256=uploaded.sha256)
        if existing is None:
            raise
        return existing, False
    # 2. Stream the bytes to storage (a move on local disk, a multipart PUT on S3).
    try:
        uploaded.seek(0)
        uploaded.content_type = inspection.content_type  # never the client's header
        stored_key = storage.file_storage().save(key, uploaded)
        if stored_key != key:  # a backend must never rename server-made keys
            raise RuntimeError(f"storage renamed {key} to {stored_key}")
    except Exception:
        File.objects.filter(pk=file.pk).delete()
        raise
    # 3. Publish.
    with transaction.atomic():
        file.status = _initial_status(inspection.kind)
        file.save(update_fields=["status", "updated_at"])
        _enqueue_processing(file)
    return file, True


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


# --- Image processing -----------------------------------------------------------------------


def image_process(*, file_id) -> File | None:
    """Strips EXIF from the original, makes an optimised WebP and a 300x300 WebP thumbnail.

    Bad images are marked failed at once; storage errors raise ProcessingRetryable after
    recording the attempt, so the task retries.
    """
    with transaction.atomic():
        file = File.objects.select_for_update().filter(pk=file_id).first()
        if file is None or file.status != File.Status.PROCESSING:
            return file
        file.attempts += 1
        file.save(update_fields=["attempts", "updated_at"])

    backend = storage.file_storage()
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as original:
        try:
            with backend.open(file.key, "rb") as stored:
                shutil.copyfileobj(stored, original, STREAM_CHUNK)
        except (OSError, BotoCoreError, ClientError) as exc:
            raise _retryable(file, exc) from exc
        original.seek(0)
        try:
            variants, stripped = _render_variants(original)
        except Exception as exc:  # whatever a bad image makes Pillow raise: not worth a retry
            return file_mark_failed(
                file_id=file.id, error=f"The image could not be processed: {exc!r}"
            )
    try:
        if stripped is not None:
            _overwrite(backend, file.key, stripped, content_type=file.content_type)
        variant_keys = {}
        for name, (data, extension) in variants.items():
            key = storage.variant_key(file.key, name, extension)
            _overwrite(backend, key, data, content_type="image/webp")
            variant_keys[name] = {"key": key, "size": len(data), "content_type": "image/webp"}
    except (OSError, BotoCoreError, ClientError) as exc:
        raise _retryable(file, exc) from exc

    with transaction.atomic():
        file = File.objects.select_for_update().get(pk=file.pk)
        if file.status != File.Status.PROCESSING:  # deleted meanwhile
            storage.delete_keys([v["key"] for v in variant_keys.values()])
            return file
        file.variants = variant_keys
        file.variants_size = sum(v["size"] for v in variant_keys.values())
        file.metadata = {**file.metadata, "exif_stripped": True}
        file.status = File.Status.READY
        file.error = ""
        file.save(
            update_fields=["variants", "variants_size", "metadata", "status", "error", "updated_at"]
        )
    return file


def _retryable(file: File, exc: Exception) -> ProcessingRetryable:
    File.objects.filter(pk=file.pk).update(error=f"attempt {file.attempts}: {exc}")
    return ProcessingRetryable(str(exc))


def _render_variants(original) -> tuple[dict, bytes | None]:
    import io

    with pixel_limit(settings.UPLOADS_MAX_IMAGE_PIXELS), Image.open(original) as image:
        image.load()
        has_metadata = bool(image.getexif()) or any(
            k in image.info for k in ("exif", "xmp", "XML:com.adobe.xmp")
        )
        stripped = None
        if has_metadata and image.format in ("JPEG", "PNG", "WEBP"):
            # Pillow writes metadata only when asked to: saving again without it strips EXIF,
            # XMP and GPS. JPEG keeps its quantisation tables, so quality does not drop.
            options = {"icc_profile": image.info.get("icc_profile")}
            if image.format == "JPEG":
                options["quality"] = "keep"
            elif image.format == "WEBP":
                options["quality"] = 90
            buffer = io.BytesIO()
            image.save(buffer, format=image.format, **{k: v for k, v in options.items() if v})
            stripped = buffer.getvalue()
        upright = ImageOps.exif_transpose(image)
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        upright = upright.convert(mode)
        optimised = upright.copy()
        optimised.thumbnail((WEBP_MAX_SIDE, WEBP_MAX_SIDE))
        webp = io.BytesIO()
        optimised.save(webp, format="WEBP", quality=80, method=4)
        thumb = io.BytesIO()
        ImageOps.fit(upright, THUMBNAIL_SIZE).save(thumb, format="WEBP", quality=75, method=4)
    return {"webp": (webp.getvalue(), ".webp"), "thumb": (thumb.getvalue(), ".webp")}, stripped


def _overwrite(backend, key: str, data: bytes, *, content_type: str) -> None:
    content = ContentFile(data)
    content.content_type = content_type
    saved = backend.save(key, content)
    if saved != key:
        raise RuntimeError(f"storage renamed {key} to {saved}")


def file_mark_failed(*, file_id, error: str) -> File | None:
    with transaction.atomic():
        file = File.objects.select_for_update().filter(pk=file_id).first()
        if file is None or file.status in (File.Status.DELETED, File.Status.READY):
            return file
        file.status = File.Status.FAILED
        file.error = error[:2000]
        file.save(update_fields=["status", "error", "updated_at"])
    return file


# --- Direct-to-S3 multipart uploads ---------------------------------------------------------


def _require_s3():
    backend = storage.file_storage()
    if not storage.is_s3(backend):
        raise MultipartUnavailable()
    return backend


def multipart_initiate(
    *,
    owner,
    name: str,
    size: int,
    content_type: str,
    is_private: bool = False,
    tags: list | None = None,
    expires_at: datetime | None = None,
) -> tuple[File, list[dict]]:
    """Starts an S3 multipart upload; returns the file (status uploading) and presigned part
    URLs. The declared size is reserved against the quota until the upload completes or ends."""
    backend = _require_s3()
    check_size(size, limit=settings.UPLOADS_MULTIPART_MAX_SIZE)
    if content_type not in ALLOWED_TYPES:
        raise UploadRejected(
            f"Files of type {content_type} are not allowed.", code="unsupported_type"
        )
    part_size = settings.UPLOADS_MULTIPART_PART_SIZE
    parts = max(1, math.ceil(size / part_size))
    if parts > 10_000:
        raise UploadRejected("The file needs more than 10,000 parts.", code="too_many_parts")
    file_id = uuid.uuid4()
    key = storage.make_key(
        file_id=file_id,
        is_private=is_private,
        extension=EXTENSIONS[content_type],
        when=timezone.now(),
    )
    client = storage.s3_client(backend)
    with transaction.atomic():
        _check_quota(size)
        upload_id = client.create_multipart_upload(
            Bucket=backend.bucket_name, Key=key, ContentType=content_type
        )["UploadId"]
        file = File.objects.create(
            id=file_id,
            owner=owner,
            original_name=name.strip()[:255] or "file",
            key=key,
            content_type=content_type,
            size=size,
            kind=ALLOWED_TYPES[content_type],
            status=File.Status.UPLOADING,
            is_private=is_private,
            tags=_clean_tags(tags),
            expires_at=expires_at,
            upload_id=upload_id,
            metadata={"part_size": part_size, "parts": parts},
        )
    return file, multipart_part_urls(file=file)


def multipart_part_urls(*, file: File) -> list[dict]:
    backend = _require_s3()
    client = storage.s3_client(backend)
    seconds = settings.UPLOADS_MULTIPART_ABANDON_HOURS * 3600
    return [
        {
            "part_number": number,
            "url": client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": backend.bucket_name,
                    "Key": file.key,
                    "UploadId": file.upload_id,
                    "PartNumber": number,
                },
                ExpiresIn=min(seconds, 7 * 24 * 3600),
            ),
        }
        for number in range(1, file.metadata.get("parts", 1) + 1)
    ]


def require_uploading(file: File) -> None:
    if file.status != File.Status.UPLOADING or not file.upload_id:
        raise UploadStateConflict(f"The file is {file.status}, not uploading.")


@transaction.atomic
def multipart_complete(*, file: File, parts: list[dict] | None = None) -> File:
    """Completes the S3 upload and queues verification (type, hash, dedup) of the bytes."""
    backend = _require_s3()
    file = File.objects.select_for_update().get(pk=file.pk)
    require_uploading(file)
    client = storage.s3_client(backend)
    if not parts:
        parts = [
            {"part_number": p["PartNumber"], "etag": p["ETag"]}
            for p in selectors.multipart_parts(file=file)
        ]
    if not parts:
        raise UploadRejected("No part has been uploaded.", code="no_parts")
    try:
        client.complete_multipart_upload(
            Bucket=backend.bucket_name,
            Key=file.key,
            UploadId=file.upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": int(p["part_number"]), "ETag": p["etag"]}
                    for p in sorted(parts, key=lambda p: int(p["part_number"]))
                ]
            },
        )
    except ClientError as exc:
        raise UploadRejected(
            f"S3 refused to complete the upload: {exc.response['Error'].get('Message', exc)}",
            code="multipart_invalid",
        ) from exc
    actual = client.head_object(Bucket=backend.bucket_name, Key=file.key)["ContentLength"]
    file.upload_id = ""
    file.status = File.Status.PROCESSING
    file.metadata = {**file.metadata, "declared_size": file.size}
    file.size = actual
    file.save(update_fields=["upload_id", "status", "metadata", "size", "updated_at"])
    from uploads.tasks import verify_upload

    file_id = str(file.id)
    transaction.on_commit(lambda: verify_upload.delay(file_id))
    return file


@transaction.atomic
def multipart_abort(*, file: File) -> File:
    file = File.objects.select_for_update().get(pk=file.pk)
    require_uploading(file)
    return file_delete(file=file)


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


def upload_verify(*, file_id) -> File | None:
    """Checks bytes that went straight to S3 as strictly as an API upload: size, magic bytes
    (they must match the declared type), image and archive limits; then hash and deduplicate."""
    file = File.objects.filter(pk=file_id, status=File.Status.PROCESSING, sha256="").first()
    if file is None:
        return None
    backend = _require_s3()
    client = storage.s3_client(backend)
    try:
        body = client.get_object(Bucket=backend.bucket_name, Key=file.key)["Body"]
        digest = hashlib.sha256()
        head = b""
        with tempfile.NamedTemporaryFile(prefix="upload-verify-") as spool:
            deep = None
            for chunk in body.iter_chunks(STREAM_CHUNK):
                digest.update(chunk)
                if len(head) < HEAD_SIZE:
                    head += chunk[: HEAD_SIZE - len(head)]
                if deep is None and len(head) >= min(HEAD_SIZE, file.size):
                    sniffed = sniff(head, name=file.original_name)
                    deep = bool(sniffed and sniffed.content_type in DEEP_INSPECTION_TYPES)
                if deep:
                    spool.write(chunk)
            spool.flush()
            inspection = inspect_file(
                path=spool.name if deep else None,
                head=head,
                name=file.original_name,
                size=file.size,
                max_size=min(settings.UPLOADS_MULTIPART_MAX_SIZE, file.metadata["declared_size"]),
            )
        if inspection.content_type != file.content_type:
            raise UploadRejected(
                f"The bytes are {inspection.content_type}, not the declared {file.content_type}.",
                code="type_mismatch",
            )
    except UploadRejected as exc:
        _remove_objects(keys=[file.key])
        return file_mark_failed(file_id=file.id, error=f"{exc.code}: {exc.message}")
    except (OSError, BotoCoreError, ClientError) as exc:
        raise ProcessingRetryable(str(exc)) from exc

    sha256 = digest.hexdigest()
    try:
        with transaction.atomic():
            file = File.objects.select_for_update().get(pk=file.pk)
            if file.status != File.Status.PROCESSING:
                return file
            existing = _existing_copy(owner=file.owner, sha256=sha256)
            if existing is not None:
                raise IntegrityError("duplicate")
            file.sha256 = sha256
            file.metadata = {**file.metadata, **inspection.metadata}
            file.status = _initial_status(inspection.kind)
            file.save(update_fields=["sha256", "metadata", "status", "updated_at"])
            _enqueue_processing(file)
            return file
    except IntegrityError:
        existing = _existing_copy(owner=file.owner, sha256=sha256)
        with transaction.atomic():
            file = File.objects.select_for_update().get(pk=file.pk)
            file.duplicate_of = existing
            file.save(update_fields=["duplicate_of", "updated_at"])
            return file_delete(file=file)


# --- Lifecycle ------------------------------------------------------------------------------


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
