"""Direct-to-S3 multipart uploads: start with presigned part URLs, resume, complete (which
queues verification of the bytes) and abort."""

import math
import uuid
from datetime import datetime

from botocore.exceptions import ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from uploads import selectors, storage
from uploads.errors import UploadRejected, UploadStateConflict
from uploads.models import File
from uploads.services._common import _check_quota, _clean_tags, _require_s3
from uploads.services.lifecycle import file_delete
from uploads.validation import ALLOWED_TYPES, EXTENSIONS, check_size


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
