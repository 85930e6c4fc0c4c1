"""Background work of the uploads app: image processing, verification of direct uploads, and
the periodic clean-ups (per tenant, see uploads/schedules.py; also `manage.py uploads_cleanup`)."""

from celery import shared_task

from core.tasks import is_final_attempt, retry_later, retry_policy
from uploads import services
from uploads.errors import ProcessingRetryable

MAX_RETRIES = 3


def _retry_or_fail(task, file_id: str, exc: ProcessingRetryable) -> None:
    """Retries with the platform's backoff; after the last attempt the file is marked failed
    (it would otherwise stay "processing" for ever)."""
    if is_final_attempt(task):
        services.file_mark_failed(
            file_id=file_id, error=f"Gave up after {task.request.retries + 1} attempts: {exc}"
        )
        return
    retry_later(task, exc=exc)


@shared_task(bind=True, name="uploads.process_image", **retry_policy(max_retries=MAX_RETRIES))
def process_image(self, file_id: str) -> str | None:
    """Strip EXIF, make the WebP and the thumbnail; the file becomes ready (or failed)."""
    try:
        file = services.image_process(file_id=file_id)
    except ProcessingRetryable as exc:
        return _retry_or_fail(self, file_id, exc)
    return file.status if file else None


@shared_task(bind=True, name="uploads.verify_upload", **retry_policy(max_retries=MAX_RETRIES))
def verify_upload(self, file_id: str) -> str | None:
    """Check, hash and deduplicate a file uploaded straight to S3."""
    try:
        file = services.upload_verify(file_id=file_id)
    except ProcessingRetryable as exc:
        return _retry_or_fail(self, file_id, exc)
    return file.status if file else None


@shared_task(name="uploads.delete_expired_files")
def delete_expired_files() -> int:
    """Delete every file past its expiry in the sender's tenant (scheduled per tenant)."""
    return services.files_delete_expired()


@shared_task(name="uploads.abort_abandoned_uploads")
def abort_abandoned_uploads() -> int:
    """Abort the sender's tenant's multipart uploads left unfinished (scheduled per tenant)."""
    return services.uploads_abort_abandoned()
