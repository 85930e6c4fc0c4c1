"""Files API: upload (single and batch), list, retrieve, update, delete, download links, usage,
direct-to-S3 multipart uploads, and the signed-link endpoint serving files from local disk."""

from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import DomainError, error_body
from tenants.models import Membership
from uploads import permissions, selectors, services, storage
from uploads.errors import (
    FileNotFound,
    FileNotReady,
    FileTooLarge,
    LinkExpired,
    LinkInvalid,
    UploadRejected,
)
from uploads.handlers import HashingUploadHandler, OversizedUpload
from uploads.models import File
from uploads.serializers import (
    DownloadQuerySerializer,
    FileListQuerySerializer,
    FileSerializer,
    FileUpdateSerializer,
    MultipartCompleteSerializer,
    MultipartInitiateSerializer,
    UploadOptionsSerializer,
)
from uploads.validation import human_size


class FileViewSet(viewsets.GenericViewSet):
    serializer_class = FileSerializer
    permission_classes = [permissions.FilePermission]
    parser_classes = [JSONParser, MultiPartParser]
    file_action: str | None = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return File.objects.none()
        return selectors.files_visible_to(user=self.request.user)

    def get_object(self) -> File:
        file = selectors.file_get(user=self.request.user, file_id=self.kwargs["pk"])
        if file is None:
            raise FileNotFound()
        self.check_object_permissions(self.request, file)
        return file

    def _file_response(self, file: File) -> Response:
        return Response(self.get_serializer(file).data)

    # --- Collection ---------------------------------------------------------------------

    @extend_schema(parameters=[FileListQuerySerializer])
    def list(self, request):
        query = FileListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        files = selectors.file_list(user=request.user, **query.validated_data)
        page = self.paginate_queryset(files)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request={"multipart/form-data": dict}, responses={201: FileSerializer})
    def create(self, request):
        """Upload one file (field "file") or several (field "files", per-file results)."""
        limit = settings.UPLOADS_MAX_FILE_SIZE
        request._request.upload_handlers = [HashingUploadHandler(request._request, max_size=limit)]
        single = request.FILES.getlist("file")
        many = request.FILES.getlist("files")
        options = UploadOptionsSerializer(data=request.data)
        uploads = single + many
        try:
            options.is_valid(raise_exception=True)
            if bool(single) == bool(many) or len(single) > 1:
                raise UploadRejected(
                    'Send one file in the field "file", or several in the field "files".',
                    code="invalid",
                )
            if len(many) > settings.UPLOADS_MAX_FILES_PER_REQUEST:
                raise UploadRejected(
                    f"At most {settings.UPLOADS_MAX_FILES_PER_REQUEST} files per request.",
                    code="too_many_files",
                )
            kwargs = {
                "owner": request.user,
                "is_private": options.validated_data["is_private"],
                "tags": options.validated_data.get("tags"),
                "expires_at": options.expires_at(),
            }
            if single:
                file, created = self._upload_one(single[0], limit, kwargs)
                data = {**self.get_serializer(file).data, "duplicate": not created}
                return Response(data, status=201 if created else 200)
            results = [self._upload_result(uploaded, limit, kwargs) for uploaded in many]
        finally:
            for uploaded in uploads:
                uploaded.close()  # removes the temporary file
        succeeded = sum(1 for r in results if r["ok"])
        return Response(
            {
                "total": len(results),
                "succeeded": succeeded,
                "failed": len(results) - succeeded,
                "results": results,
            }
        )

    def _upload_one(self, uploaded, limit: int, kwargs: dict) -> tuple[File, bool]:
        if isinstance(uploaded, OversizedUpload):
            raise FileTooLarge(f"The file is larger than the limit of {human_size(limit)}.")
        return services.file_upload(uploaded=uploaded, **kwargs)

    def _upload_result(self, uploaded, limit: int, kwargs: dict) -> dict:
        try:
            file, created = self._upload_one(uploaded, limit, kwargs)
        except DomainError as exc:
            return {"name": uploaded.name, "ok": False, **error_body(exc.code, exc.message)}
        return {
            "name": uploaded.name,
            "ok": True,
            "duplicate": not created,
            "file": self.get_serializer(file).data,
        }

    @action(detail=False, methods=["get"])
    def usage(self, request):
        """Storage used by the caller; the whole workspace's too for its owners and admins."""
        data = {"user": selectors.user_usage(user=request.user)}
        role = (
            Membership.objects.filter(user=request.user, tenant=request.tenant)
            .values_list("role", flat=True)
            .first()
        )
        if role in (Membership.Role.OWNER, Membership.Role.ADMIN):
            data["tenant"] = {
                **selectors.tenant_usage(),
                "quota_bytes": selectors.tenant_quota_bytes(),
            }
        return Response(data)

    # --- One file -----------------------------------------------------------------------

    def retrieve(self, request, pk=None):
        return self._file_response(self.get_object())

    @extend_schema(request=FileUpdateSerializer, responses={200: FileSerializer})
    def partial_update(self, request, pk=None):
        file = self.get_object()
        data = FileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        file = services.file_update(
            file=file,
            name=data.validated_data.get("name"),
            tags=data.validated_data.get("tags"),
            expires_at=data.expires_at(),
            clear_expiry="expires_in_hours" in data.validated_data
            and data.validated_data["expires_in_hours"] is None,
        )
        return self._file_response(file)

    def destroy(self, request, pk=None):
        services.file_delete(file=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[DownloadQuerySerializer], responses={200: dict})
    @action(detail=True, methods=["get"], file_action=permissions.DOWNLOAD)
    def download(self, request, pk=None):
        """A link to the bytes: permanent for public files, short-lived and signed otherwise."""
        file = self.get_object()
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if file.status != File.Status.READY:
            raise FileNotReady(f"The file is {file.status}.")
        variant = query.validated_data["variant"]
        if variant == "original":
            key, content_type, name = file.key, file.content_type, file.original_name
        else:
            if variant not in file.variants:
                raise FileNotFound(f'This file has no "{variant}" variant.')
            key, content_type = file.variants[variant]["key"], "image/webp"
            name = f"{file.original_name.rsplit('.', 1)[0]}-{variant}.webp"
        if not file.is_private:
            url = storage.public_url(key, filename=name, content_type=content_type)
            expires_at = None
        else:
            url, expires_at = storage.signed_url(key, filename=name, content_type=content_type)
        if url.startswith("/"):
            url = request.build_absolute_uri(url)
        return Response({"url": url, "expires_at": expires_at, "content_type": content_type})

    # --- Direct-to-S3 multipart uploads -------------------------------------------------

    @extend_schema(request=MultipartInitiateSerializer, responses={201: dict})
    @action(detail=False, methods=["post"], url_path="uploads", parser_classes=[JSONParser])
    def multipart_initiate(self, request):
        """Start a large upload: the client PUTs each part to its presigned URL, then completes."""
        data = MultipartInitiateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        file, part_urls = services.multipart_initiate(
            owner=request.user,
            name=values["name"],
            size=values["size"],
            content_type=values["content_type"],
            is_private=values["is_private"],
            tags=values.get("tags"),
            expires_at=data.expires_at(),
        )
        return Response(
            {
                "file": self.get_serializer(file).data,
                "part_size": file.metadata["part_size"],
                "parts": part_urls,
            },
            status=status.HTTP_201_CREATED,
        )

    @action(detail=True, methods=["get"], url_path="upload/parts", file_action=permissions.UPDATE)
    def multipart_parts(self, request, pk=None):
        """Parts received so far, and fresh part URLs to resume an interrupted upload."""
        file = self.get_object()
        services.require_uploading(file)
        received = [
            {"part_number": p["PartNumber"], "etag": p["ETag"], "size": p["Size"]}
            for p in selectors.multipart_parts(file=file)
        ]
        return Response({"received": received, "parts": services.multipart_part_urls(file=file)})

    @extend_schema(request=MultipartCompleteSerializer, responses={200: FileSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="upload/complete",
        parser_classes=[JSONParser],
        file_action=permissions.UPDATE,
    )
    def multipart_complete(self, request, pk=None):
        file = self.get_object()
        data = MultipartCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        file = services.multipart_complete(file=file, parts=data.validated_data.get("parts"))
        return self._file_response(file)

    @action(detail=True, methods=["delete"], url_path="upload", file_action=permissions.DELETE)
    def multipart_abort(self, request, pk=None):
        services.multipart_abort(file=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlobView(APIView):
    """Serves a file from local-disk storage to whoever holds a valid signed link.

    The link is the permission: it was issued after a permission check, names one key of this
    tenant, and (for private files) expires. With S3 storage links point at the bucket instead.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, token: str):
        backend = storage.file_storage()
        if storage.is_s3(backend):
            raise FileNotFound()
        try:
            payload, expired = storage.read_blob_token(token)
        except signing.BadSignature as exc:
            raise LinkInvalid() from exc
        key = payload["k"]
        if not key.startswith(f"{connection.schema_name}/"):
            raise LinkInvalid()
        if expired:
            raise LinkExpired()
        if not backend.exists(key):
            raise FileNotFound()
        content_type = payload["t"]
        response = FileResponse(
            backend.open(key, "rb"),
            as_attachment=not content_type.startswith("image/"),
            filename=payload["n"],
            content_type=content_type,
        )
        private = payload["e"] is not None
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, max-age=60" if private else "public, max-age=86400"
        return response
