"""The files API against a real S3 endpoint on loopback (moto in server mode): uploads, presigned
downloads, and multipart uploads whose parts a plain HTTP client PUTs straight to the bucket."""

import hashlib
import os
from datetime import timedelta

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from uploads import services
from uploads.models import File
from uploads.tests.factories import PDF, png_bytes

URL = "/api/v1/files/"
MiB = 1024 * 1024

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_a")]


def upload(client, data: bytes, name="file.bin", **form):
    form["file"] = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(URL, form, format="multipart")


def keys(s3) -> list[str]:
    client, bucket = s3
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_an_upload_lands_in_the_bucket_and_is_served_by_its_public_url(api, s3_storage):
    body = upload(api, PDF, name="flyer.pdf").json()

    file = File.objects.get(pk=body["id"])
    assert keys(s3_storage) == [file.key]
    assert file.key.startswith("alpha/public/")
    client, bucket = s3_storage
    head = client.head_object(Bucket=bucket, Key=file.key)
    assert head["ContentType"] == "application/pdf"
    assert body["url"].endswith(f"/{bucket}/{file.key}")
    assert httpx.get(body["url"]).content == PDF


def test_the_same_bytes_twice_are_stored_once_in_the_bucket(api, s3_storage):
    first = upload(api, PDF, name="a.pdf").json()
    second = upload(api, PDF, name="b.pdf").json()
    assert second["id"] == first["id"] and second["duplicate"] is True
    assert len(keys(s3_storage)) == 1


def test_private_files_are_downloaded_through_presigned_urls(api, other_api, s3_storage):
    body = upload(api, PDF, name="contract.pdf", is_private="true").json()
    assert body["url"] is None
    assert other_api.get(f"{URL}{body['id']}/download/").status_code == 404

    link = api.get(f"{URL}{body['id']}/download/").json()
    assert "X-Amz-Signature=" in link["url"] and "X-Amz-Expires=300" in link["url"]
    response = httpx.get(link["url"])
    assert response.status_code == 200
    assert response.content == PDF
    assert "contract.pdf" in response.headers["content-disposition"]

    # Without the signature the object is not readable.
    assert httpx.get(link["url"].split("?")[0]).status_code == 403


def test_images_are_processed_into_the_bucket(
    api, s3_storage, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(api, png_bytes(500, 400), name="logo.png").json()

    file = File.objects.get(pk=body["id"])
    assert file.status == "ready"
    assert keys(s3_storage) == sorted(
        [file.key, file.variants["webp"]["key"], file.variants["thumb"]["key"]]
    )
    thumb = api.get(f"{URL}{file.id}/download/", {"variant": "thumb"}).json()
    assert httpx.get(thumb["url"]).headers["content-type"] == "image/webp"

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{URL}{file.id}/").status_code == 204
    assert keys(s3_storage) == []


def _multipart(api, data: bytes, *, content_type: str, name: str = "big.bin", **extra):
    response = api.post(
        f"{URL}uploads/",
        {"name": name, "size": len(data), "content_type": content_type, **extra},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _put_parts(start: dict, data: bytes) -> list[dict]:
    size = start["part_size"]
    parts = []
    with httpx.Client(timeout=30) as http:
        for part in start["parts"]:
            number = part["part_number"]
            chunk = data[(number - 1) * size : number * size]
            response = http.put(part["url"], content=chunk)
            assert response.status_code == 200, response.text
            parts.append({"part_number": number, "etag": response.headers["etag"]})
    return parts


def test_a_large_file_goes_straight_to_s3_in_presigned_parts(
    api, s3_storage, eager_tasks, django_capture_on_commit_callbacks
):
    data = b"\x00\x00\x00\x18ftypmp42" + os.urandom(11 * MiB)
    start = _multipart(api, data, content_type="video/mp4", name="talk.mp4", tags=["video"])

    assert start["file"]["status"] == "uploading"
    assert start["part_size"] == 5 * MiB
    assert [p["part_number"] for p in start["parts"]] == [1, 2, 3]
    file_id = start["file"]["id"]
    client, bucket = s3_storage
    uploads = client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["Key"] for u in uploads] == [File.objects.get(pk=file_id).key]

    parts = _put_parts(start, data)
    listed = api.get(f"{URL}{file_id}/upload/parts/").json()
    assert [p["part_number"] for p in listed["received"]] == [1, 2, 3]
    assert sum(p["size"] for p in listed["received"]) == len(data)

    with django_capture_on_commit_callbacks(execute=True):
        done = api.post(f"{URL}{file_id}/upload/complete/", {"parts": parts}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "processing"

    file = File.objects.get(pk=file_id)
    assert file.status == "ready"
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    assert file.size == len(data)
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    body = client.get_object(Bucket=bucket, Key=file.key)["Body"].read()
    assert body == data


def test_a_direct_upload_of_bytes_already_stored_becomes_a_duplicate(
    api, s3_storage, eager_tasks, django_capture_on_commit_callbacks
):
    data = PDF + os.urandom(1000)
    first = upload(api, data, name="a.pdf").json()
    start = _multipart(api, data, content_type="application/pdf")
    parts = _put_parts(start, data)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{URL}{start['file']['id']}/upload/complete/", {"parts": parts}, format="json")

    again = File.objects.get(pk=start["file"]["id"])
    assert again.status == "deleted"
    assert str(again.duplicate_of_id) == first["id"]
    assert keys(s3_storage) == [File.objects.get(pk=first["id"]).key]


def test_a_direct_upload_whose_bytes_are_not_the_declared_type_fails(
    api, s3_storage, eager_tasks, django_capture_on_commit_callbacks
):
    data = b"<html><script>alert(1)</script></html>"
    start = _multipart(api, data, content_type="image/png", name="cat.png")
    parts = _put_parts(start, data)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{URL}{start['file']['id']}/upload/complete/", {"parts": parts}, format="json")

    file = File.objects.get(pk=start["file"]["id"])
    assert file.status == "failed"
    assert "unsupported_type" in file.error
    assert keys(s3_storage) == []


def test_a_direct_upload_larger_than_declared_fails(
    api, s3_storage, eager_tasks, django_capture_on_commit_callbacks
):
    start = _multipart(api, PDF, content_type="application/pdf")
    part = start["parts"][0]
    etag = httpx.put(part["url"], content=PDF + b"x" * 5000).headers["etag"]
    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"{URL}{start['file']['id']}/upload/complete/",
            {"parts": [{"part_number": 1, "etag": etag}]},
            format="json",
        )
    file = File.objects.get(pk=start["file"]["id"])
    assert file.status == "failed" and "too_large" in file.error
    assert keys(s3_storage) == []


def test_multipart_abort_and_bad_requests(
    api, other_api, s3_storage, django_capture_on_commit_callbacks
):
    client, bucket = s3_storage
    start = _multipart(api, PDF, content_type="application/pdf")
    file_id = start["file"]["id"]

    assert other_api.delete(f"{URL}{file_id}/upload/").status_code == 404  # not readable
    assert File.objects.get(pk=file_id).status == "uploading"
    assert len(client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{URL}{file_id}/upload/").status_code == 204
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert File.objects.get(pk=file_id).status == "deleted"
    again = api.post(f"{URL}{file_id}/upload/complete/", {}, format="json")
    assert again.status_code == 404  # deleted files are gone for the API
    assert File.objects.get(pk=file_id).status == "deleted"

    for body, code in [
        ({"name": "a", "size": 10, "content_type": "application/x-msdownload"}, "invalid"),
        ({"name": "a", "size": 0, "content_type": "video/mp4"}, "invalid"),
        ({"name": "a", "size": 10 * 1024**4, "content_type": "video/mp4"}, "too_large"),
    ]:
        response = api.post(f"{URL}uploads/", body, format="json")
        assert response.status_code in (400, 413)
        assert response.json()["error"]["code"] == code
    assert File.objects.filter(status="uploading").count() == 0
    assert File.objects.count() == 1  # the aborted one
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert keys(s3_storage) == []


def test_completing_without_parts_is_refused(api, s3_storage):
    start = _multipart(api, PDF, content_type="application/pdf")
    response = api.post(f"{URL}{start['file']['id']}/upload/complete/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_parts"
    file = File.objects.get(pk=start["file"]["id"])
    assert (file.status, file.size) == ("uploading", len(PDF))
    assert file.upload_id  # still open: the client may send the parts and complete again
    client, bucket = s3_storage
    assert len(client.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 1
    assert keys(s3_storage) == []


def test_the_quota_counts_reserved_multipart_uploads(api, s3_storage, plan_limits):
    plan_limits("free", storage_bytes=20 * MiB)
    _multipart(api, b"x" * (15 * MiB), content_type="video/mp4")
    response = api.post(
        f"{URL}uploads/", {"name": "b", "size": 6 * MiB, "content_type": "video/mp4"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert File.objects.count() == 1
    client, bucket = s3_storage
    assert len(client.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 1


def test_abandoned_multipart_uploads_are_aborted(
    api, s3_storage, django_capture_on_commit_callbacks
):
    client, bucket = s3_storage
    start = _multipart(api, PDF, content_type="application/pdf")
    stray = client.create_multipart_upload(Bucket=bucket, Key="alpha/private/stray.bin")
    other_tenant = client.create_multipart_upload(Bucket=bucket, Key="beta/private/keep.bin")

    # The tracked upload is young; the stray one is aborted when S3 says it is old enough
    # (moto reports every upload as initiated in 2010).
    first = services.uploads_abort_abandoned()
    assert File.objects.get(pk=start["file"]["id"]).status == "uploading"

    later = timezone.now() + timedelta(hours=25)
    with django_capture_on_commit_callbacks(execute=True):
        assert first + services.uploads_abort_abandoned(now=later) == 2
    file = File.objects.get(pk=start["file"]["id"])
    assert file.status == "deleted" and file.error == "The upload was abandoned."
    left = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in left] == [other_tenant["UploadId"]]
    assert stray["UploadId"] not in [u["UploadId"] for u in left]


def test_public_urls_use_the_cdn_domain_when_configured(api, s3_storage, settings):
    settings.UPLOADS_CDN_DOMAIN = "cdn.example.com"
    body = upload(api, PDF, name="flyer.pdf").json()
    key = File.objects.get(pk=body["id"]).key
    assert body["url"] == f"https://cdn.example.com/{key}"
    private = upload(api, PDF + b"private", name="p.pdf", is_private="true").json()
    link = api.get(f"{URL}{private['id']}/download/").json()
    assert "cdn.example.com" not in link["url"]  # private files stay behind signatures
