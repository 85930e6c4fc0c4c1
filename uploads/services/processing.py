"""Work on stored bytes after they arrive: image processing (EXIF stripped, WebP and thumbnail)
and verification of direct uploads (type, limits, hash, deduplication); failures are recorded."""

import hashlib
import io
import shutil
import tempfile

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image, ImageOps

from uploads import storage
from uploads.errors import ProcessingRetryable, UploadRejected
from uploads.models import File
from uploads.services._common import (
    STREAM_CHUNK,
    _enqueue_processing,
    _initial_status,
    _require_s3,
)
from uploads.services.lifecycle import _existing_copy, _remove_objects, file_delete
from uploads.sniff import HEAD_SIZE, sniff
from uploads.validation import DEEP_INSPECTION_TYPES, inspect_file, pixel_limit

THUMBNAIL_SIZE = (300, 300)
WEBP_MAX_SIDE = 2048


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
        # Cropped to at most 300x300, never enlarged: a small image keeps its own pixels.
        box = (min(THUMBNAIL_SIZE[0], upright.width), min(THUMBNAIL_SIZE[1], upright.height))
        ImageOps.fit(upright, box).save(thumb, format="WEBP", quality=75, method=4)
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
