"""Every write of the uploads app, one module per sub-domain: files received through the API
(uploads), direct-to-S3 multipart uploads (multipart), image processing and verification of the
stored bytes (processing), and a file's life afterwards: changes, deletion, clean-ups
(lifecycle)."""

from uploads.services.lifecycle import (
    file_delete,
    file_update,
    files_delete_expired,
    uploads_abort_abandoned,
)
from uploads.services.multipart import (
    multipart_abort,
    multipart_complete,
    multipart_initiate,
    multipart_part_urls,
    require_uploading,
)
from uploads.services.processing import (
    THUMBNAIL_SIZE,
    WEBP_MAX_SIDE,
    file_mark_failed,
    image_process,
    upload_verify,
)
from uploads.services.uploads import (
    UploadOutcome,
    UploadResults,
    file_upload,
    files_upload,
)

__all__ = [
    "THUMBNAIL_SIZE",
    "WEBP_MAX_SIDE",
    "UploadOutcome",
    "UploadResults",
    "file_delete",
    "file_mark_failed",
    "file_update",
    "file_upload",
    "files_delete_expired",
    "files_upload",
    "image_process",
    "multipart_abort",
    "multipart_complete",
    "multipart_initiate",
    "multipart_part_urls",
    "require_uploading",
    "upload_verify",
    "uploads_abort_abandoned",
]
