"""Test data: rows of uploads.File and real bytes of every kind the validator looks at."""

import io
import struct
import uuid
import zipfile
import zlib

import factory
from django.db import connection
from django.utils import timezone
from PIL import Image

from uploads.models import File


class FileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = File

    id = factory.LazyFunction(uuid.uuid4)
    original_name = factory.Sequence(lambda n: f"document-{n}.txt")
    key = factory.LazyAttribute(
        lambda o: f"{connection.schema_name}/public/{timezone.now():%Y/%m/%d}/{o.id}.txt"
    )
    content_type = "text/plain"
    size = 10
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    kind = File.Kind.DOCUMENT
    status = File.Status.READY


def png_bytes(width: int = 640, height: int = 480, color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_with_exif(width: int = 800, height: int = 600) -> bytes:
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0132] = "2026:01:01 10:00:00"  # DateTime
    exif[0x8825] = {2: (48.0, 51.0, 24.0), 1: "N"}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def crafted_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a pixel flood)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lying_zip(entries: dict[str, bytes], *, claimed_size: int = 10) -> bytes:
    """A deflated zip whose local and central headers both claim every entry expands to
    `claimed_size` bytes (the CRC stays the real one, as a crafted bomb keeps it)."""
    data = bytearray(zip_bytes(entries))
    at = 0
    while (at := data.find(b"PK\x03\x04", at)) != -1:  # local header: size at +22
        data[at + 22 : at + 26] = struct.pack("<I", claimed_size)
        at += 4
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:  # central header: size at +24
        data[at + 24 : at + 28] = struct.pack("<I", claimed_size)
        at += 4
    return bytes(data)


def docx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
            "word/document.xml": b"<?xml version='1.0'?><document/>",
        }
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
