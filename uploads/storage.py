"""Where file bytes live: storage keys, the configured backend (S3 or disk) and URLs to them."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.files.storage import Storage, storages
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

BLOB_SALT = "uploads.blob"


def file_storage() -> Storage:
    return storages["uploads"]


def is_s3(storage: Storage | None = None) -> bool:
    storage = storage or file_storage()
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def s3_client(storage: Storage | None = None):
    return (storage or file_storage()).connection.meta.client


def make_key(*, file_id: uuid.UUID, is_private: bool, extension: str, when: datetime) -> str:
    """<schema>/<public|private>/<yyyy>/<mm>/<dd>/<uuid><ext>: never built from user input."""
    visibility = "private" if is_private else "public"
    return f"{connection.schema_name}/{visibility}/{when:%Y/%m/%d}/{file_id}{extension.lower()}"


def variant_key(key: str, variant: str, extension: str) -> str:
    stem = key.rsplit("/", 1)
    base = stem[1].split(".", 1)[0]
    return f"{stem[0]}/{base}-{variant}{extension}"


def public_url(key: str, *, filename: str, content_type: str) -> str:
    """A permanent URL of a public object: the CDN, the bucket, or a signed Django URL."""
    if settings.UPLOADS_CDN_DOMAIN:
        return f"https://{settings.UPLOADS_CDN_DOMAIN}/{key}"
    storage = file_storage()
    if is_s3(storage):
        client = s3_client(storage)
        base = client.meta.endpoint_url.rstrip("/")
        return f"{base}/{storage.bucket_name}/{key}"
    return _blob_url(key, filename=filename, content_type=content_type, expires_at=None)


def signed_url(
    key: str, *, filename: str, content_type: str, seconds: int | None = None
) -> tuple[str, datetime]:
    """A short-lived URL of an object: S3 presigned or a signed Django URL for disk storage."""
    seconds = seconds or settings.UPLOADS_SIGNED_URL_SECONDS
    expires_at = timezone.now() + timedelta(seconds=seconds)
    storage = file_storage()
    if is_s3(storage):
        url = s3_client(storage).generate_presigned_url(
            "get_object",
            Params={
                "Bucket": storage.bucket_name,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=seconds,
        )
        return url, expires_at
    url = _blob_url(key, filename=filename, content_type=content_type, expires_at=expires_at)
    return url, expires_at


def _blob_url(key: str, *, filename: str, content_type: str, expires_at: datetime | None) -> str:
    payload = {
        "k": key,
        "n": filename,
        "t": content_type,
        "e": int(expires_at.timestamp()) if expires_at else None,
    }
    token = signing.dumps(payload, salt=BLOB_SALT, compress=True)
    return reverse("uploads:blob", kwargs={"token": token})


def read_blob_token(token: str) -> tuple[dict, bool]:
    """(payload, expired) of a signed Django URL token; BadSignature if it was tampered with."""
    payload = signing.loads(token, salt=BLOB_SALT)
    expires = payload.get("e")
    expired = expires is not None and timezone.now().timestamp() > expires
    return payload, expired


def content_disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def delete_keys(keys: list[str]) -> None:
    storage = file_storage()
    for key in keys:
        if key:
            storage.delete(key)


class UploadsS3Storage(S3Storage):
    """S3 for file uploads: the content type is ours (never guessed from a name, never served
    with a Content-Encoding), and public objects may get a canned ACL (`public_acl`, e.g.
    "public-read") where the bucket does not grant reads through a policy."""

    def get_default_settings(self):
        return {**super().get_default_settings(), "public_acl": ""}

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        params.pop("ContentEncoding", None)
        if self.public_acl and "/public/" in name:
            params["ACL"] = self.public_acl
        return params
