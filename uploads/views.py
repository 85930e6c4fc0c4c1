"""Files API: upload (single and batch), list, retrieve, update, delete, download links, usage,
direct-to-S3 multipart uploads, and the signed-link endpoint serving files from local disk."""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import error_body
from core.pagination import paginated_response
from core.parsers import SafeJSONParser
from uploads import permissions, selectors, services, storage
from uploads.errors import FileNotFound
from uploads.handlers import HashingUploadHandler
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

_KIND_USAGE = inline_serializer(
    "KindUsage", {"files": serializers.IntegerField(), "bytes": serializers.IntegerField()}
)
_USAGE_FIELDS = {
    "files": serializers.IntegerField(),
    "bytes": serializers.IntegerField(),
    "by_kind": serializers.DictField(child=_KIND_USAGE),
}
USAGE_RESPONSE = inline_serializer(
    "StorageUsage",
    {
        "user": inline_serializer("UserStorageUsage", _USAGE_FIELDS),
        "tenant": inline_serializer(
            "WorkspaceStorageUsage",
            {**_USAGE_FIELDS, "quota_bytes": serializers.IntegerField()},
            required=False,
        ),
    },
)


class FileViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "uuid"
    serializer_class = FileSerializer
    permission_classes = [permissions.FilePermission]
    parser_classes = [SafeJSONParser, MultiPartParser]
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
        return paginated_response(
            pagination_class=self.pagination_class,
            serializer_class=FileSerializer,
            queryset=selectors.file_list(user=request.user, **query.validated_data),
            request=request,
            view=self,
        )

    @extend_schema(request={"multipart/form-data": dict}, responses={201: FileSerializer})
    def create(self, request):
        """Upload one file (field "file") or several (field "files", per-file results)."""
        limit = settings.UPLOADS_MAX_FILE_SIZE
        request._request.upload_handlers = [HashingUploadHandler(request._request, max_size=limit)]
        single = request.FILES.getlist("file")
        many = request.FILES.getlist("files")
        options = UploadOptionsSerializer(data=request.data)
        try:
            options.is_valid(raise_exception=True)
            results = services.files_upload(
                owner=request.user,
                single=single,
                many=many,
                is_private=options.validated_data["is_private"],
                tags=options.validated_data.get("tags"),
                expires_at=options.expires_at(),
            )
        finally:
            for uploaded in single + many:
                uploaded.close()  # removes the temporary file
        if results.single:
            [outcome] = results.outcomes
            data = {**self.get_serializer(outcome.file).data, "duplicate": not outcome.created}
            return Response(data, status=201 if outcome.created else 200)
        return Response(
            {
                "total": len(results.outcomes),
                "succeeded": results.succeeded,
                "failed": results.failed,
                "results": [self._outcome_body(outcome) for outcome in results.outcomes],
            }
        )

    def _outcome_body(self, outcome: services.UploadOutcome) -> dict:
        if outcome.error is not None:
            error = error_body(outcome.error.code, outcome.error.message)
            return {"name": outcome.name, "ok": False, **error}
        return {
            "name": outcome.name,
            "ok": True,
            "duplicate": not outcome.created,
            "file": self.get_serializer(outcome.file).data,
        }

    @extend_schema(responses={200: USAGE_RESPONSE})
    @action(detail=False, methods=["get"])
    def usage(self, request):
        """Storage used by the caller; the whole workspace's too for its owners and admins."""
        return Response(selectors.usage_visible_to(user=request.user, tenant=request.tenant))

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
        link = selectors.download_link(file=file, variant=query.validated_data["variant"])
        if link["url"].startswith("/"):  # disk storage: served by BlobView on this host
            link["url"] = request.build_absolute_uri(link["url"])
        return Response(link)

    # --- Direct-to-S3 multipart uploads -------------------------------------------------

    @extend_schema(request=MultipartInitiateSerializer, responses={201: dict})
    @action(detail=False, methods=["post"], url_path="uploads", parser_classes=[SafeJSONParser])
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
        parser_classes=[SafeJSONParser],
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
        payload = permissions.blob_link_payload(token)
        key = payload["k"]
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
