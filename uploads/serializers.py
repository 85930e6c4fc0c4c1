"""Shapes of the uploads API: input validation and output only."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from uploads import storage
from uploads.models import File
from uploads.validation import ALLOWED_TYPES

MAX_EXPIRY_HOURS = 24 * 365


class _DownloadLink(serializers.HyperlinkedIdentityField):
    """The file's download link: the route is reversed once per page, not once per row."""

    # A UUID, so the route's uuid converter accepts it; swapped for each row's id.
    _PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

    def get_url(self, obj, view_name, request, format):
        if format is not None or obj.pk is None:
            return super().get_url(obj, view_name, request, format)
        template = getattr(self, "_template", None)
        if template is None or template[0] is not request:
            url = self.reverse(view_name, kwargs={"pk": self._PLACEHOLDER}, request=request)
            template = self._template = (request, url)
        return template[1].replace(self._PLACEHOLDER, str(obj.pk))


class FileSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    owner = serializers.UUIDField(source="owner_id")
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    download = _DownloadLink(view_name="uploads:file-download", lookup_field="pk")

    class Meta:
        model = File
        fields = [
            "id",
            "name",
            "owner",
            "content_type",
            "size",
            "sha256",
            "kind",
            "status",
            "is_private",
            "tags",
            "metadata",
            "url",
            "thumbnail_url",
            "download",
            "error",
            "duplicate_of",
            "expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _public(self, file: File) -> bool:
        return not file.is_private and file.status == File.Status.READY

    def get_url(self, file: File) -> str | None:
        """Permanent URL of a public, ready file; private files go through `download`."""
        if not self._public(file):
            return None
        return self._absolute(
            storage.public_url(
                file.key, filename=file.original_name, content_type=file.content_type
            )
        )

    def get_thumbnail_url(self, file: File) -> str | None:
        thumb = file.variants.get("thumb")
        if not thumb or not self._public(file):
            return None
        return self._absolute(
            storage.public_url(thumb["key"], filename="thumbnail.webp", content_type="image/webp")
        )

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        if request is not None and url.startswith("/"):
            return request.build_absolute_uri(url)
        return url


class _ExpiryMixin(serializers.Serializer):
    expires_in_hours = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_EXPIRY_HOURS
    )

    def expires_at(self):
        hours = self.validated_data.get("expires_in_hours")
        return timezone.now() + timedelta(hours=hours) if hours else None


class UploadOptionsSerializer(_ExpiryMixin):
    is_private = serializers.BooleanField(required=False, default=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )


class FileUpdateSerializer(_ExpiryMixin):
    name = serializers.CharField(required=False, max_length=255)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of name, tags, expires_in_hours.")
        return attrs


class MultipartInitiateSerializer(UploadOptionsSerializer):
    name = serializers.CharField(max_length=255)
    size = serializers.IntegerField(min_value=1)
    content_type = serializers.ChoiceField(choices=sorted(ALLOWED_TYPES))


class PartSerializer(serializers.Serializer):
    part_number = serializers.IntegerField(min_value=1, max_value=10_000)
    etag = serializers.CharField(max_length=200)


class MultipartCompleteSerializer(serializers.Serializer):
    parts = PartSerializer(many=True, required=False)


class FileListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=File.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=File.Status.choices, required=False)
    search = serializers.CharField(required=False, max_length=100)
    tag = serializers.CharField(required=False, max_length=50)
    mine = serializers.BooleanField(required=False, default=False)


class DownloadQuerySerializer(serializers.Serializer):
    variant = serializers.ChoiceField(choices=["original", "webp", "thumb"], default="original")
