"""Tables of the uploads app: one row per stored file (original plus its generated variants)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class File(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        DOCUMENT = "document", "Document"
        AUDIO = "audio", "Audio"
        ARCHIVE = "archive", "Archive"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        DELETED = "deleted", "Deleted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    original_name = models.CharField(max_length=255)
    # Server-made storage key: <schema>/<public|private>/<yyyy>/<mm>/<dd>/<uuid><ext>.
    key = models.CharField(max_length=512, unique=True)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.BigIntegerField(default=0)
    # SHA-256 of the bytes the client sent; empty until a direct-to-S3 upload is verified.
    sha256 = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADING)
    is_private = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Generated files, by name ("webp", "thumbnail"): {"key", "size", "content_type"}.
    variants = models.JSONField(default=dict, blank=True)
    variants_size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # S3 multipart upload id while the client uploads parts straight to the bucket.
    upload_id = models.CharField(max_length=1024, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="file_owner_created"),
            models.Index(fields=["status", "expires_at"], name="file_status_expires"),
            models.Index(fields=["kind", "-created_at"], name="file_kind_created"),
        ]
        constraints = [
            # Deduplication: one live copy of the same bytes per owner.
            models.UniqueConstraint(
                fields=["owner", "sha256"],
                condition=~Q(sha256="") & ~Q(status="deleted") & ~Q(status="failed"),
                name="file_unique_owner_sha256",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.id})"

    @property
    def stored_size(self) -> int:
        return self.size + self.variants_size
