"""Real processes: a Celery worker processing an image, uvicorn refusing an over-long body."""

import sys
import uuid

import psycopg
import pytest
from django_tenants.utils import schema_context

from tests import live
from uploads.tests.factories import jpeg_with_exif


@pytest.mark.slow
@pytest.mark.django_db
def test_a_worker_makes_the_variants_and_marks_the_file_ready(tenant_a, tmp_path):
    from uploads.tasks import process_image

    # The worker is another process: it sees only committed rows, so this test commits its own
    # (a user and a file in tenant A) on a separate connection and removes them afterwards.
    user_id, file_id = uuid.uuid4(), uuid.uuid4()
    key = f"alpha/public/2026/01/01/{file_id}.jpg"
    original = tmp_path / "uploads" / key
    original.parent.mkdir(parents=True)
    original.write_bytes(jpeg_with_exif(640, 480))
    dsn = live.test_database_url().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(
            "INSERT INTO public.accounts_user (id, password, is_superuser, email, name, "
            "is_active, is_staff, date_joined) VALUES (%s, '!', false, %s, '', true, false, now())",
            [user_id, f"{user_id}@worker.test"],
        )
        db.execute(
            "INSERT INTO alpha.uploads_file (id, owner_id, original_name, key, content_type, "
            "size, sha256, kind, status, is_private, tags, metadata, variants, variants_size, "
            "error, attempts, upload_id, created_at, updated_at) VALUES (%s, %s, 'photo.jpg', "
            "%s, 'image/jpeg', 1, '', 'image', 'processing', false, '[]', '{}', '{}', 0, '', "
            "0, '', now(), now())",
            [file_id, user_id, key],
        )
        try:
            queue = f"test-{uuid.uuid4().hex[:8]}"
            args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
            args += ["-Q", queue, "--loglevel=WARNING", "--without-gossip", "--without-mingle"]
            args += ["--without-heartbeat"]
            with live.running(args, env=live.process_env(MEDIA_ROOT=str(tmp_path))):
                with schema_context(tenant_a.schema_name):
                    result = process_image.apply_async(args=[str(file_id)], queue=queue)
                assert result.get(timeout=60) == "ready"
            row = db.execute(
                "SELECT status, variants, attempts FROM alpha.uploads_file WHERE id = %s",
                [file_id],
            ).fetchone()
        finally:
            db.execute("DELETE FROM alpha.uploads_file WHERE id = %s", [file_id])
            db.execute("DELETE FROM public.accounts_user WHERE id = %s", [user_id])

    status, variants, attempts = row
    assert (status, attempts) == ("ready", 1)
    assert set(variants) == {"webp", "thumb"}
    for variant in variants.values():
        assert (tmp_path / "uploads" / variant["key"]).stat().st_size == variant["size"]


@pytest.mark.slow
@pytest.mark.django_db
def test_uvicorn_refuses_an_over_long_upload_before_reading_it(tenant_a):
    import httpx

    port = live.free_port()
    args = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    args += ["--host", "127.0.0.1", "--log-level", "warning"]
    env = live.process_env(UPLOADS_MAX_REQUEST_SIZE="10000")
    with live.running(args, port=port, env=env):
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/files/",
            headers={"Host": "alpha.localhost"},
            files={"file": ("big.bin", b"x" * 50_000)},
        )
        small = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "alpha.localhost"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert small.status_code == 200
