"""The files API on local-disk storage: upload, dedup, rejection, processing, access, lifecycle."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from uploads.models import File
from uploads.tests.factories import (
    PDF,
    FileFactory,
    crafted_png,
    jpeg_with_exif,
    lying_zip,
    png_bytes,
)

URL = "/api/v1/files/"
KEY_RE = re.compile(r"^alpha/(public|private)/\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.[a-z]+$")


def upload(client, data: bytes, name="file.bin", content_type="application/octet-stream", **form):
    form["file"] = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(URL, form, format="multipart")


def stored(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_a")]


def test_upload_stores_the_bytes_under_a_server_made_key(api, member, local_storage):
    data = PDF
    response = upload(api, data, name="../../etc/passwd.pdf", is_private="true", tags=["q1"])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == "application/pdf"
    assert body["kind"] == "document"
    assert body["status"] == "ready"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["name"] == "passwd.pdf"  # Django keeps the base name only
    assert body["is_private"] is True
    assert body["tags"] == ["q1"]
    assert body["url"] is None  # private files only through download links
    assert body["duplicate"] is False
    file = File.objects.get(pk=body["id"])
    assert KEY_RE.match(file.key), file.key
    assert file.key.startswith("alpha/private/")
    assert file.owner == member
    assert (local_storage / file.key).read_bytes() == data


def test_the_same_bytes_twice_are_stored_once(api, local_storage):
    first = upload(api, PDF, name="a.pdf")
    second = upload(api, PDF, name="b.pdf")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["duplicate"] is True
    assert File.objects.count() == 1
    assert len(stored(local_storage)) == 1


def test_another_user_uploading_the_same_bytes_gets_their_own_file(api, other_api, local_storage):
    assert upload(api, PDF).status_code == 201
    assert upload(other_api, PDF).status_code == 201
    assert File.objects.count() == 2


def test_a_spoofed_content_type_is_refused_and_nothing_is_stored(api, local_storage):
    html = b"<html><script>alert(document.cookie)</script></html>"
    response = upload(api, html, name="cat.png", content_type="image/png")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_type"
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_the_client_header_does_not_decide_the_type(api, local_storage):
    response = upload(api, png_bytes(20, 20), name="scan.pdf", content_type="application/pdf")
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"
    assert File.objects.get().key.endswith(".png")


def test_an_oversized_file_is_refused_while_streaming(api, local_storage, settings):
    settings.UPLOADS_MAX_FILE_SIZE = 1000
    response = upload(api, b"a" * 5000, name="big.txt")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_a_zip_bomb_with_lying_headers_is_refused_and_nothing_is_stored(api, local_storage):
    crafted = lying_zip({"zeros.bin": b"\x00" * 5_000_000}, claimed_size=10)
    response = upload(api, crafted, name="report.zip", content_type="application/zip")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "archive_bomb"
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_a_decompression_bomb_image_is_refused(api, local_storage):
    response = upload(api, crafted_png(60_000, 60_000), name="bomb.png")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "image_too_large"
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_the_tenant_quota_is_enforced(api, local_storage, plan_limits):
    plan_limits("free", storage_bytes=len(PDF) + 10)
    assert upload(api, PDF).status_code == 201
    response = upload(api, b"another small text file\n", name="b.txt")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert File.objects.count() == 1
    assert stored(local_storage) == [File.objects.get().key]


def test_several_files_get_one_result_each(api, local_storage):
    files = [
        SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("evil.png", b"<svg onload=alert(1)>", content_type="image/png"),
        SimpleUploadedFile("notes.txt", b"plain notes\n", content_type="text/plain"),
    ]
    response = api.post(URL, {"files": files}, format="multipart")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["total"], body["succeeded"], body["failed"]) == (3, 2, 1)
    ok, bad, txt = body["results"]
    assert ok["ok"] and ok["file"]["content_type"] == "application/pdf"
    assert not bad["ok"] and bad["error"]["code"] == "unsupported_type"
    assert bad["name"] == "evil.png"
    assert txt["file"]["content_type"] == "text/plain"
    assert File.objects.count() == 2
    assert len(stored(local_storage)) == 2


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"is_private": "maybe"},
        {"expires_in_hours": "0"},
    ],
)
def test_bad_upload_requests_are_refused_with_the_error_shape(api, local_storage, form):
    if form:
        form["file"] = SimpleUploadedFile("a.pdf", PDF)
    response = api.post(URL, form, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message"}
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_too_many_files_in_one_request_are_refused(api, local_storage, settings):
    settings.UPLOADS_MAX_FILES_PER_REQUEST = 2
    files = [SimpleUploadedFile(f"{i}.txt", f"text {i}".encode()) for i in range(3)]
    response = api.post(URL, {"files": files}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_files"
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_images_are_processed_exif_stripped_webp_and_thumbnail(
    api, local_storage, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api, jpeg_with_exif(800, 600), name="holiday.jpg")

    assert response.status_code == 201
    assert response.json()["status"] == "processing"
    file = File.objects.get()
    assert file.status == File.Status.READY
    assert file.metadata["width"] == 800 and file.metadata["exif_stripped"] is True
    assert set(file.variants) == {"webp", "thumb"}
    with Image.open(local_storage / file.key) as original:
        assert not original.getexif()  # camera, date and GPS are gone
    with Image.open(local_storage / file.variants["thumb"]["key"]) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (300, 300))
    with Image.open(local_storage / file.variants["webp"]["key"]) as webp:
        assert (webp.format, webp.size) == ("WEBP", (800, 600))
        assert not webp.getexif()
    assert file.variants_size == sum(v["size"] for v in file.variants.values())

    body = api.get(f"{URL}{file.id}/").json()
    assert body["status"] == "ready"
    assert body["thumbnail_url"].startswith("http://alpha.localhost/api/v1/files/blob/")
    thumb = api.get(body["thumbnail_url"])
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (300, 300)


@pytest.mark.parametrize("size, thumb_size", [((64, 48), (64, 48)), ((900, 120), (300, 120))])
def test_small_images_get_a_thumbnail_that_is_not_upscaled(
    api, local_storage, eager_tasks, django_capture_on_commit_callbacks, size, thumb_size
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(api, jpeg_with_exif(*size), name="small.jpg")
    file = File.objects.get()
    with Image.open(local_storage / file.variants["thumb"]["key"]) as thumb:
        assert thumb.size == thumb_size


def test_processing_retries_storage_errors_then_records_the_failure(
    api, local_storage, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    from uploads.services import processing

    calls = {"n": 0}

    def unreachable(*args, **kwargs):
        calls["n"] += 1
        raise OSError("storage unreachable")

    from uploads.tasks import process_image

    with django_capture_on_commit_callbacks(execute=False):
        file_id = upload(api, png_bytes(50, 50), name="a.png").json()["id"]
    monkeypatch.setattr(processing, "_overwrite", unreachable)
    process_image.apply(args=[file_id])  # runs the retries in this process

    file = File.objects.get()
    assert file.status == File.Status.FAILED
    attempts = process_image.max_retries + 1  # the first try and every retry of the policy
    assert file.attempts == attempts and calls["n"] == attempts
    assert f"Gave up after {attempts} attempts" in file.error
    assert "storage unreachable" in file.error
    assert file.variants == {}
    assert stored(local_storage) == [file.key]  # no variant was left behind


def test_a_corrupt_stored_image_fails_without_retrying(local_storage, member):
    from uploads import services

    file = FileFactory(
        owner=member,
        kind="image",
        content_type="image/png",
        status="processing",
        key="alpha/public/2026/01/01/0f0f0f0f-0000-0000-0000-000000000000.png",
    )
    (local_storage / file.key).parent.mkdir(parents=True)
    (local_storage / file.key).write_bytes(b"\x89PNG\r\n\x1a\nnot really")

    services.image_process(file_id=file.id)

    file.refresh_from_db()
    assert file.status == File.Status.FAILED
    assert file.attempts == 1
    assert "could not be processed" in file.error


def test_list_filters_and_searches_with_a_constant_number_of_queries(
    api, member, other_member, local_storage, django_assert_num_queries
):
    FileFactory.create_batch(3, owner=member, kind="image", original_name="beach.png")
    FileFactory.create_batch(2, owner=member, kind="document", original_name="report.pdf")
    FileFactory(owner=member, kind="document", original_name="tagged.pdf", tags=["q1", "tax"])
    FileFactory(owner=other_member, is_private=True, kind="image", original_name="secret beach.png")
    FileFactory(
        owner=other_member, is_private=False, kind="image", original_name="shared beach.png"
    )
    FileFactory(owner=member, status="deleted", original_name="gone beach.png")

    api.get(URL)  # warms the caller's cached RBAC rules
    # The page after one search_path switch (host, token user and the permission check
    # are served from caches).
    with django_assert_num_queries(2):
        response = api.get(URL)
    assert response.status_code == 200
    names = [f["name"] for f in response.json()["results"]]
    assert len(names) == 7
    assert "secret beach.png" not in names and "gone beach.png" not in names

    FileFactory.create_batch(10, owner=member)
    with django_assert_num_queries(2):
        assert len(api.get(URL).json()["results"]) == 17
    tagged = api.get(URL, {"tag": "tax"}).json()["results"]
    assert [f["name"] for f in tagged] == ["tagged.pdf"]

    images = api.get(URL, {"kind": "image", "search": "BEACH"}).json()["results"]
    assert {f["name"] for f in images} == {"beach.png", "shared beach.png"}
    mine = api.get(URL, {"kind": "image", "mine": "true"}).json()["results"]
    assert len(mine) == 3
    bad = api.get(URL, {"kind": "spreadsheet"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_list_is_paginated_by_cursor(api, member, local_storage):
    FileFactory.create_batch(5, owner=member)
    page = api.get(URL, {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    second = api.get(page["next"]).json()
    assert len(second["results"]) == 2
    assert {f["id"] for f in page["results"]}.isdisjoint({f["id"] for f in second["results"]})


def test_owners_update_metadata(api, member, local_storage):
    file = FileFactory(owner=member, tags=["old"])
    response = api.patch(
        f"{URL}{file.id}/",
        {"name": "renamed.txt", "tags": ["a", "b", "a"], "expires_in_hours": 2},
        format="json",
    )
    assert response.status_code == 200, response.json()
    file.refresh_from_db()
    assert file.original_name == "renamed.txt"
    assert file.tags == ["a", "b"]
    assert (
        timezone.now() + timedelta(hours=1) < file.expires_at < timezone.now() + timedelta(hours=3)
    )

    before = (file.original_name, file.tags, file.expires_at, file.updated_at)
    bad = api.patch(f"{URL}{file.id}/", {"tags": "not-a-list"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    empty = api.patch(f"{URL}{file.id}/", {}, format="json")
    assert empty.status_code == 400
    file.refresh_from_db()
    assert (file.original_name, file.tags, file.expires_at, file.updated_at) == before


def test_members_read_public_files_but_only_owners_change_them(
    api, other_api, member, local_storage
):
    public = FileFactory(owner=member, is_private=False)
    private = FileFactory(owner=member, is_private=True)
    name = public.original_name

    assert other_api.get(f"{URL}{public.id}/").status_code == 200
    assert other_api.get(f"{URL}{public.id}/download/").status_code == 200
    assert other_api.get(f"{URL}{private.id}/").status_code == 404
    assert other_api.get(f"{URL}{private.id}/download/").status_code == 404
    patch = other_api.patch(f"{URL}{public.id}/", {"name": "x"}, format="json")
    assert patch.status_code == 403 and patch.json()["error"]["code"] == "permission_denied"
    assert other_api.delete(f"{URL}{public.id}/").status_code == 403
    assert other_api.delete(f"{URL}{private.id}/").status_code == 404
    public.refresh_from_db()
    private.refresh_from_db()
    assert (public.status, public.original_name) == ("ready", name)
    assert private.status == "ready"


def test_other_tenants_never_see_a_file(
    api, member, auth_client, make_user, tenant_a, tenant_b, local_storage
):
    response = upload(api, PDF, name="alpha.pdf")
    file_id = response.json()["id"]

    stranger = make_user(email="b@beta.test", tenant=tenant_b)
    beta = auth_client(stranger, tenant_b)
    assert beta.get(f"{URL}{file_id}/").status_code == 404
    assert beta.get(URL).json()["results"] == []

    # A token of tenant A presented on tenant B's host is refused.
    token = api._credentials["HTTP_AUTHORIZATION"]
    from rest_framework.test import APIClient

    crossing = APIClient(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=token)
    assert crossing.get(URL).status_code == 401


def test_non_members_are_refused(auth_client, make_user, tenant_a, tenant_b, local_storage):
    outsider = make_user(email="outsider@beta.test", tenant=tenant_b)
    client = auth_client(outsider, tenant_a)
    response = client.get(URL)
    assert response.status_code == 403


def test_anonymous_requests_are_refused(client_a, local_storage):
    assert client_a.get(URL).status_code == 401
    assert upload(client_a, PDF).status_code == 401
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_private_downloads_are_short_lived_signed_links(api, other_api, local_storage, monkeypatch):
    file_id = upload(api, PDF, name="q3 report.pdf", is_private="true").json()["id"]

    link = api.get(f"{URL}{file_id}/download/").json()
    assert link["expires_at"] is not None
    response = api.get(link["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "q3 report.pdf" in response["Content-Disposition"]

    # Anyone holding the link may use it until it expires (no token needed)...
    from rest_framework.test import APIClient

    anonymous = APIClient(HTTP_HOST="alpha.localhost")
    assert anonymous.get(link["url"]).status_code == 200

    # ...a tampered link is refused...
    token = link["url"].rstrip("/").rsplit("/", 1)[1]
    tampered = link["url"].replace(token, token[:-3] + ("aaa" if token[-3:] != "aaa" else "bbb"))
    refused = anonymous.get(tampered)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "link_invalid"

    # ...so is a link of tenant A used on tenant B's host...
    beta = APIClient(HTTP_HOST="beta.localhost")
    assert beta.get(link["url"].replace("alpha.localhost", "beta.localhost")).status_code == 403

    # ...and an expired one.
    from uploads import storage

    later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(storage.timezone, "now", lambda: later)
    expired = anonymous.get(link["url"])
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "link_expired"


def test_public_files_have_a_permanent_url(api, local_storage):
    body = upload(api, PDF, name="brochure.pdf").json()
    assert body["url"]
    link = api.get(f"{URL}{body['id']}/download/").json()
    assert link["expires_at"] is None
    response = api.get(body["url"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_downloads_wait_until_the_file_is_ready(api, member, local_storage):
    file = FileFactory(owner=member, status="processing")
    response = api.get(f"{URL}{file.id}/download/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "file_not_ready"


def test_delete_removes_the_original_and_its_variants(
    api, local_storage, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        file_id = upload(api, png_bytes(400, 300), name="a.png").json()["id"]
    assert len(stored(local_storage)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"{URL}{file_id}/")

    assert response.status_code == 204
    assert stored(local_storage) == []
    assert File.objects.get(pk=file_id).status == "deleted"
    assert api.get(f"{URL}{file_id}/").status_code == 404
    # The same bytes may be uploaded again afterwards.
    assert upload(api, png_bytes(400, 300), name="a.png").status_code == 201


def test_usage_per_user_and_for_the_tenant(
    auth_client, make_user, tenant_a, api, member, local_storage
):
    FileFactory(owner=member, size=100, kind="image", variants_size=20)
    FileFactory(owner=member, size=50, kind="document")
    other = make_user(email="admin@alpha.test", tenant=tenant_a, role="admin")
    FileFactory(owner=other, size=7)
    FileFactory(owner=member, size=1000, status="deleted")

    mine = api.get(f"{URL}usage/").json()
    assert mine["user"]["files"] == 2 and mine["user"]["bytes"] == 170
    assert mine["user"]["by_kind"]["image"] == {"files": 1, "bytes": 100}
    assert "tenant" not in mine  # members see only their own usage

    admin = auth_client(other, tenant_a).get(f"{URL}usage/").json()
    assert admin["tenant"]["files"] == 3 and admin["tenant"]["bytes"] == 177
    assert admin["tenant"]["quota_bytes"] > 0


def test_multipart_needs_s3(api, local_storage):
    response = api.post(
        f"{URL}uploads/", {"name": "a.mp4", "size": 10, "content_type": "video/mp4"}, format="json"
    )
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "multipart_unavailable"
    assert File.objects.count() == 0


def test_an_oversized_file_in_a_batch_fails_alone(api, local_storage, settings):
    settings.UPLOADS_MAX_FILE_SIZE = 100
    files = [
        SimpleUploadedFile("small.txt", b"small\n"),
        SimpleUploadedFile("big.txt", b"b" * 500),
    ]
    body = api.post(URL, {"files": files}, format="multipart").json()
    assert [r["ok"] for r in body["results"]] == [True, False]
    assert body["results"][1]["error"]["code"] == "too_large"
    assert len(stored(local_storage)) == 1
    assert list(File.objects.values_list("original_name", flat=True)) == ["small.txt"]


@pytest.mark.parametrize(
    "payload",
    [
        lambda: {
            "file": SimpleUploadedFile("a.txt", b"a"),
            "files": SimpleUploadedFile("b.txt", b"b"),
        },
        lambda: {"file": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]},
    ],
)
def test_file_and_files_are_not_mixed(api, local_storage, payload):
    response = api.post(URL, payload(), format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_a_json_body_is_not_an_upload(api, local_storage):
    response = api.post(URL, {"file": "aGVsbG8="}, format="json")
    assert response.status_code == 400
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_non_members_cannot_upload(auth_client, make_user, tenant_a, tenant_b, local_storage):
    outsider = make_user(email="outsider2@beta.test", tenant=tenant_b)
    response = upload(auth_client(outsider, tenant_a), PDF)
    assert response.status_code == 403
    assert File.objects.count() == 0
    assert stored(local_storage) == []


def test_an_expired_file_is_gone_before_the_clean_up_runs(api, member, local_storage):
    expired = FileFactory(owner=member, expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get(f"{URL}{expired.id}/").status_code == 404
    assert api.get(f"{URL}{expired.id}/download/").status_code == 404
    assert api.get(URL).json()["results"] == []


def test_uploading_the_bytes_of_an_expired_file_stores_them_anew(
    api, local_storage, django_capture_on_commit_callbacks
):
    first = upload(api, PDF, expires_in_hours="1").json()
    File.objects.filter(pk=first["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        second = upload(api, PDF)
    assert second.status_code == 201 and second.json()["id"] != first["id"]
    assert File.objects.get(pk=first["id"]).status == "deleted"
    assert len(stored(local_storage)) == 1


def test_managers_manage_other_peoples_files_and_members_do_not(
    member, other_api, make_user, auth_client, tenant_a, local_storage
):
    file = FileFactory(owner=member, is_private=True, original_name="ledger.pdf")
    assert other_api.delete(f"{URL}{file.pk}/").status_code in (403, 404)
    file.refresh_from_db()
    assert file.status != "deleted"

    manager = make_user(email="manager@alpha.test", tenant=tenant_a, role="manager")
    response = auth_client(manager, tenant_a).delete(f"{URL}{file.pk}/")
    assert response.status_code == 204


def test_download_links_of_a_page_match_the_generic_field(api, member, local_storage, rf):
    from rest_framework import serializers
    from rest_framework.request import Request

    from uploads.serializers import FileSerializer

    files = FileFactory.create_batch(3, owner=member)
    listed = {f["id"]: f["download"] for f in api.get(URL).json()["results"]}
    request = Request(rf.get(URL, HTTP_HOST="alpha.localhost"))
    generic = serializers.HyperlinkedIdentityField(
        view_name="uploads:file-download", lookup_field="pk"
    )
    for file in files:
        expected = generic.get_url(file, "uploads:file-download", request, None)
        assert listed[str(file.id)] == expected
        assert expected.endswith(f"/api/v1/files/{file.id}/download/")
        one = FileSerializer(file, context={"request": request}).data
        assert one["download"] == expected
