"""Upload benchmark: streams large generated files to a real uvicorn process and prints upload
throughput and the server process's resident memory (baseline and peak while receiving).

Memory must stay flat: the request body is spooled to disk, parsed into a temporary file,
hashed in chunks and moved (local disk) or sent in parts (S3) to storage.

    DATABASE_URL=... REDIS_URL=... python bench/uploads.py [--sizes 200,1024] [--s3]

The database must be migrated (`manage.py migrate_schemas`); a "bench" tenant is created on
first use. With --s3, a moto S3 server is started on loopback and used as the bucket.
"""

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import django
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import membership_set, tenant_create  # noqa: E402
from accounts.tokens import tokens_for_user  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.live import free_port, wait_for_port  # noqa: E402

MiB = 1024 * 1024
CHUNK = MiB
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def multipart_body(size: int, boundary: str):
    """(length, chunk iterator) of a multipart/form-data body holding one generated file."""
    block = os.urandom(CHUNK)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bench.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    unique = MP4_HEAD + uuid.uuid4().bytes  # a fresh hash every run (no deduplication)

    def chunks():
        yield head + unique
        left = size - len(unique)
        while left > 0:
            piece = block[: min(CHUNK, left)]
            left -= len(piece)
            yield piece
        yield tail

    return len(head) + size + len(tail), chunks()


def bench_user() -> tuple[Tenant, User]:
    tenant = Tenant.objects.filter(slug="bench").first()
    if tenant is None:
        print("creating the bench tenant (schema and migrations)...", flush=True)
        tenant = tenant_create(slug="bench", name="Bench", domain="bench.localhost")
    user = User.objects.filter(email="bench@bench.localhost").first()
    if user is None:
        user = User.objects.create_user(email="bench@bench.localhost", password=None)
    membership_set(user=user, tenant=tenant, role="owner")
    return tenant, user


def start_moto(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1024", help="file sizes in MiB, comma separated")
    parser.add_argument("--s3", action="store_true", help="store in S3 (moto on loopback)")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]

    tenant, user = bench_user()
    token = tokens_for_user(user=user, tenant=tenant)["access"]
    media = tempfile.TemporaryDirectory(prefix="bench-media-")
    env = dict(os.environ)
    env.update(
        MEDIA_ROOT=media.name,
        UPLOADS_MAX_FILE_SIZE=str((max(sizes) + 1) * MiB),
        UPLOADS_QUOTA_FREE=str(10 * 1024 * MiB * len(sizes)),
        LOG_LEVEL="WARNING",
    )
    moto = None
    if args.s3:
        moto_port = free_port()
        moto = start_moto(moto_port)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        import boto3

        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket=bucket)
        env.update(
            UPLOADS_S3_BUCKET=bucket,
            UPLOADS_S3_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
            UPLOADS_S3_REGION="us-east-1",
            UPLOADS_S3_ACCESS_KEY_ID="bench",
            UPLOADS_S3_SECRET_ACCESS_KEY="bench",
        )

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
        + ["--host", "127.0.0.1", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    where = "S3 (moto)" if args.s3 else "local disk"
    print(f"storage: {where}; database {connection.settings_dict['NAME']}")
    try:
        wait_for_port(port, server)
        headers = {"Host": "bench.localhost", "Authorization": f"Bearer {token}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600
        ) as http:
            # Warm up: the first request imports and connects everything.
            length, body = multipart_body(64 * 1024, "warmup")
            http.post(
                "/api/v1/files/",
                content=body,
                headers={
                    "Content-Type": "multipart/form-data; boundary=warmup",
                    "Content-Length": str(length),
                },
            ).raise_for_status()
            columns = ("size", 9), ("seconds", 8), ("MiB/s", 8), ("RSS before", 11)
            columns += ("RSS peak", 9), ("growth", 8)
            print(" ".join(f"{name:>{width}}" for name, width in columns))
            for size_mib in sizes:
                boundary = uuid.uuid4().hex
                length, body = multipart_body(size_mib * MiB, boundary)
                baseline = rss_kib(server.pid)
                sampler = PeakSampler(server.pid)
                sampler.start()
                started = time.perf_counter()
                response = http.post(
                    "/api/v1/files/",
                    content=body,
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Content-Length": str(length),
                    },
                )
                elapsed = time.perf_counter() - started
                peak = sampler.stop()
                response.raise_for_status()
                assert response.json()["size"] == size_mib * MiB, response.json()
                print(
                    f"{size_mib:>5} MiB {elapsed:>8.2f} {size_mib / elapsed:>8.1f} "
                    f"{baseline / 1024:>7.1f} MiB {peak / 1024:>5.1f} MiB "
                    f"{(peak - baseline) / 1024:>4.1f} MiB",
                    flush=True,
                )
                http.delete(f"/api/v1/files/{response.json()['id']}/").raise_for_status()
    finally:
        server.terminate()
        server.wait(timeout=15)
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=15)
        media.cleanup()


if __name__ == "__main__":
    main()
