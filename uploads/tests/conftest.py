"""Storage fixtures: local disk in a temporary directory, or S3 served by moto on loopback."""

import uuid

import pytest

from tests.live import free_port


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 endpoint over HTTP (moto in server mode), for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _storages(settings, uploads: dict) -> dict:
    return {**settings.STORAGES, "uploads": uploads}


@pytest.fixture
def local_storage(settings, tmp_path):
    settings.STORAGES = _storages(
        settings,
        {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "uploads"), "allow_overwrite": True},
        },
    )
    settings.UPLOADS_CDN_DOMAIN = ""
    return tmp_path / "uploads"


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    """Points the uploads storage at a fresh bucket; returns (boto3 client, bucket name)."""
    import boto3

    bucket = f"files-{uuid.uuid4().hex[:12]}"
    options = {
        "bucket_name": bucket,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "testing",
        "secret_key": "testing",
        "default_acl": None,
        "file_overwrite": True,
        "querystring_auth": True,
        "signature_version": "s3v4",
        "public_acl": "public-read",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = _storages(
        settings, {"BACKEND": "uploads.storage.UploadsS3Storage", "OPTIONS": options}
    )
    settings.UPLOADS_CDN_DOMAIN = ""
    settings.UPLOADS_MULTIPART_PART_SIZE = 5 * 1024 * 1024  # S3's minimum part size
    return client, bucket


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the calling process (with their retries) instead of on a worker."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def member(make_user, tenant_a):
    return make_user(email="member@alpha.test", tenant=tenant_a)


@pytest.fixture
def other_member(make_user, tenant_a):
    return make_user(email="other@alpha.test", tenant=tenant_a)


@pytest.fixture
def api(auth_client, member, tenant_a):
    return auth_client(member, tenant_a)


@pytest.fixture
def other_api(auth_client, other_member, tenant_a):
    return auth_client(other_member, tenant_a)
