"""Files received through the API: validated, deduplicated per owner, reserved against the
quota and streamed to storage; one file per request or a batch with one result per file."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError
from uploads import storage
from uploads.errors import FileTooLarge, UploadRejected
from uploads.handlers import OversizedUpload
from uploads.models import File
from uploads.services._common import (
    _check_quota,
    _clean_tags,
    _enqueue_processing,
    _initial_status,
)
from uploads.services.lifecycle import _existing_copy
from uploads.validation import human_size, inspect_file


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


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one received file: the stored file (new, or the owner's existing copy
    of the same bytes), or the domain error that refused it."""

    name: str
    file: File | None = None
    created: bool = False
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class UploadResults:
    """The outcomes of one upload request; `single` when it sent one file in the field "file"."""

    single: bool
    outcomes: list[UploadOutcome] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.ok)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.succeeded


def files_upload(
    *,
    owner,
    single: list,
    many: list,
    is_private: bool = False,
    tags: list | None = None,
    expires_at: datetime | None = None,
) -> UploadResults:
    """Stores the files of one upload request: one file in the field "file" (a refusal raises),
    or up to UPLOADS_MAX_FILES_PER_REQUEST in the field "files", where each file gets its own
    outcome and a refused one does not stop the others."""
    if bool(single) == bool(many) or len(single) > 1:
        raise UploadRejected(
            'Send one file in the field "file", or several in the field "files".', code="invalid"
        )
    if len(many) > settings.UPLOADS_MAX_FILES_PER_REQUEST:
        raise UploadRejected(
            f"At most {settings.UPLOADS_MAX_FILES_PER_REQUEST} files per request.",
            code="too_many_files",
        )
    options = {"owner": owner, "is_private": is_private, "tags": tags, "expires_at": expires_at}
    if single:
        file, created = _upload_received(uploaded=single[0], **options)
        return UploadResults(single=True, outcomes=[UploadOutcome(single[0].name, file, created)])
    outcomes = []
    for uploaded in many:
        try:
            file, created = _upload_received(uploaded=uploaded, **options)
        except DomainError as exc:
            outcomes.append(UploadOutcome(uploaded.name, error=exc))
        else:
            outcomes.append(UploadOutcome(uploaded.name, file, created))
    return UploadResults(single=False, outcomes=outcomes)


def _upload_received(*, uploaded, **options) -> tuple[File, bool]:
    if isinstance(uploaded, OversizedUpload):
        # The upload handler stopped storing it at the limit; only its name and size are left.
        limit = settings.UPLOADS_MAX_FILE_SIZE
        raise FileTooLarge(f"The file is larger than the limit of {human_size(limit)}.")
    return file_upload(uploaded=uploaded, **options)
