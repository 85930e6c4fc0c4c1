"""Checks a received file before anything is stored: size, type by magic bytes, image and
archive bombs. Every rejection raises UploadRejected with a code and a clear message."""

import bz2
import gzip
import struct
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from uploads.errors import FileTooLarge, UploadRejected
from uploads.models import File
from uploads.sniff import OOXML, Sniffed, sniff

ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": File.Kind.IMAGE,
    "image/png": File.Kind.IMAGE,
    "image/gif": File.Kind.IMAGE,
    "image/webp": File.Kind.IMAGE,
    "video/mp4": File.Kind.VIDEO,
    "video/mpeg": File.Kind.VIDEO,
    "video/ogg": File.Kind.VIDEO,
    "video/webm": File.Kind.VIDEO,
    "video/quicktime": File.Kind.VIDEO,
    "audio/mpeg": File.Kind.AUDIO,
    "audio/wav": File.Kind.AUDIO,
    "audio/ogg": File.Kind.AUDIO,
    "audio/flac": File.Kind.AUDIO,
    "audio/mp4": File.Kind.AUDIO,
    "application/pdf": File.Kind.DOCUMENT,
    "application/msword": File.Kind.DOCUMENT,
    "application/vnd.ms-excel": File.Kind.DOCUMENT,
    OOXML["word/"][0]: File.Kind.DOCUMENT,
    OOXML["xl/"][0]: File.Kind.DOCUMENT,
    OOXML["ppt/"][0]: File.Kind.DOCUMENT,
    "text/plain": File.Kind.DOCUMENT,
    "text/csv": File.Kind.DOCUMENT,
    "text/markdown": File.Kind.DOCUMENT,
    "application/zip": File.Kind.ARCHIVE,
    "application/gzip": File.Kind.ARCHIVE,
    "application/x-tar": File.Kind.ARCHIVE,
}
IMAGE_TYPES = {t for t, kind in ALLOWED_TYPES.items() if kind == File.Kind.IMAGE}
EXTENSIONS: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/mpeg": ".mpg",
    "video/ogg": ".ogv",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/ogg": ".ogg",
    "audio/flac": ".flac",
    "audio/mp4": ".m4a",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    OOXML["word/"][0]: ".docx",
    OOXML["xl/"][0]: ".xlsx",
    OOXML["ppt/"][0]: ".pptx",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "text/markdown": ".md",
    "application/zip": ".zip",
    "application/gzip": ".gz",
    "application/x-tar": ".tar",
}
# Types whose safety can only be judged from the whole file (headers, central directories).
DEEP_INSPECTION_TYPES = IMAGE_TYPES | {
    "application/zip",
    "application/gzip",
    "application/x-tar",
    OOXML["word/"][0],
    OOXML["xl/"][0],
    OOXML["ppt/"][0],
}


@dataclass
class Inspection:
    content_type: str
    extension: str
    kind: str
    metadata: dict = field(default_factory=dict)


def check_size(size: int, *, limit: int | None = None) -> None:
    limit = settings.UPLOADS_MAX_FILE_SIZE if limit is None else limit
    if size > limit:
        raise FileTooLarge(f"The file is larger than the limit of {human_size(limit)}.")
    if size == 0:
        raise UploadRejected("The file is empty.", code="empty_file")


def inspect_file(
    *, path: str | None, head: bytes, name: str, size: int, max_size: int | None = None
) -> Inspection:
    """Everything we need to know about a received file, or UploadRejected.

    `path` (the bytes on local disk) is needed only for DEEP_INSPECTION_TYPES.
    """
    check_size(size, limit=max_size)
    sniffed = sniff(head, name=name)
    if sniffed is None:
        raise UploadRejected(
            "The file's content is not of a recognised type.", code="unsupported_type"
        )
    if sniffed.content_type == "application/zip":
        sniffed = _inspect_zip(path, size)
    if sniffed.content_type not in ALLOWED_TYPES:
        raise UploadRejected(
            f"Files of type {sniffed.content_type} are not allowed.", code="unsupported_type"
        )
    inspection = Inspection(
        content_type=sniffed.content_type,
        extension=sniffed.extension,
        kind=ALLOWED_TYPES[sniffed.content_type],
    )
    if sniffed.content_type in IMAGE_TYPES:
        inspection.metadata = inspect_image(path)
    elif sniffed.content_type == "application/gzip":
        _inspect_gzip(path, size)
    elif sniffed.content_type == "application/x-tar":
        _inspect_tar(path)
    return inspection


def inspect_image(path: str) -> dict:
    """Width, height and format of an image, refusing pixel floods and decompression bombs.

    Pillow reads only the header here; its own MAX_IMAGE_PIXELS guard is turned from a warning
    into an error so a crafted header cannot make a later decode allocate gigabytes.
    """
    max_pixels = settings.UPLOADS_MAX_IMAGE_PIXELS
    max_side = settings.UPLOADS_MAX_IMAGE_SIDE
    try:
        with pixel_limit(max_pixels), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                image_format = image.format
                frames = getattr(image, "n_frames", 1)
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(
            f"The image has too many pixels (limit {max_pixels:,}).", code="image_too_large"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRejected("The image is corrupt or truncated.", code="image_invalid") from exc
    if width > max_side or height > max_side:
        raise UploadRejected(
            f"The image is {width}x{height}; each side may be at most {max_side} pixels.",
            code="image_too_large",
        )
    if width * height * frames > max_pixels:
        raise UploadRejected(
            f"The image has too many pixels across its frames (limit {max_pixels:,}).",
            code="image_too_large",
        )
    return {"width": width, "height": height, "format": image_format, "frames": frames}


@contextmanager
def pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow's decompression-bomb limit is a module global: set it for one decode only."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _archive_limits() -> tuple[int, int, int]:
    return (
        settings.UPLOADS_ARCHIVE_MAX_TOTAL,
        settings.UPLOADS_ARCHIVE_MAX_RATIO,
        settings.UPLOADS_ARCHIVE_MAX_ENTRIES,
    )


def _bomb(message: str) -> UploadRejected:
    return UploadRejected(message, code="archive_bomb")


def _inspect_zip(path: str, size: int) -> Sniffed:
    """Zip limits from the central directory, then from the bytes each entry really expands to
    (headers can lie about sizes), then OOXML refinement. Nothing is written to disk."""
    max_total, max_ratio, max_entries = _archive_limits()
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > max_entries:
                raise _bomb(f"The archive has more than {max_entries:,} entries.")
            total = sum(entry.file_size for entry in entries)
            if total > max_total:
                raise _bomb(f"The archive expands to more than {human_size(max_total)}.")
            compressed = sum(entry.compress_size for entry in entries)
            if total > max(compressed, 1) * max_ratio or total > max(size, 1) * max_ratio:
                raise _bomb(f"The archive's compression ratio exceeds {max_ratio}:1.")
            _count_zip_content(archive, limit=min(max_total, max(size, 1) * max_ratio))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise UploadRejected("The archive is corrupt.", code="archive_invalid") from exc
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" in names:
        for prefix, (content_type, extension) in OOXML.items():
            if any(name.startswith(prefix) for name in names):
                return Sniffed(content_type, extension)
    return Sniffed("application/zip", ".zip")


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., name length, extra length
_CHUNK = 64 * 1024


def _count_zip_content(archive: zipfile.ZipFile, *, limit: int) -> None:
    """Decompresses every entry from its local header to the end of its compressed stream,
    counting the output (never keeping it) and stopping as soon as the total passes `limit`.
    The sizes in the headers are not used: extractors decompress to the stream's end."""
    total = 0
    fp = archive.fp
    file_size = fp.seek(0, 2)
    for entry in archive.infolist():
        if entry.flag_bits & 0x1:
            raise UploadRejected("Encrypted archives are not accepted.", code="archive_invalid")
        fp.seek(entry.header_offset)
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(fp.read(_LOCAL_HEADER.size))
        if signature != b"PK\x03\x04":
            raise zipfile.BadZipFile("bad local header")
        fp.seek(name_length + extra_length, 1)
        if entry.compress_type == zipfile.ZIP_STORED:
            total += min(entry.compress_size, file_size - fp.tell())
        elif entry.compress_type in (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2):
            total = _count_stream(fp, entry.compress_type, total=total, limit=limit)
        else:
            raise UploadRejected(
                "The archive uses an unsupported compression method.", code="archive_invalid"
            )
        if total > limit:
            raise _bomb(f"The archive expands beyond {human_size(limit)}.")


def _count_stream(fp, compress_type: int, *, total: int, limit: int) -> int:
    if compress_type == zipfile.ZIP_DEFLATED:
        decompressor = zlib.decompressobj(-15)
    else:
        decompressor = bz2.BZ2Decompressor()
    while True:
        data = fp.read(_CHUNK)
        if not data:
            return total  # truncated stream: counted as far as it goes
        while data:
            if compress_type == zipfile.ZIP_DEFLATED:
                out = decompressor.decompress(data, _CHUNK)
                data = decompressor.unconsumed_tail
            else:
                out = decompressor.decompress(data, max_length=_CHUNK)
                data = b""
                while not decompressor.eof and not decompressor.needs_input:
                    total += len(out)
                    if total > limit:
                        return total
                    out = decompressor.decompress(b"", max_length=_CHUNK)
            total += len(out)
            if total > limit or decompressor.eof:
                return total


def _inspect_gzip(path: str, size: int) -> None:
    """gzip headers do not say how large the content is: decompress, counting, up to the limit."""
    max_total, max_ratio, _ = _archive_limits()
    limit = min(max_total, max(size, 1) * max_ratio)
    total = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1024 * 1024):
                total += len(chunk)
                if total > limit:
                    raise _bomb(
                        f"The archive expands beyond {human_size(limit)} "
                        f"(ratio limit {max_ratio}:1, size limit {human_size(max_total)})."
                    )
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UploadRejected("The archive is corrupt.", code="archive_invalid") from exc


def _inspect_tar(path: str) -> None:
    max_total, _, max_entries = _archive_limits()
    count = total = 0
    try:
        with tarfile.open(path, "r:") as archive:
            for member in archive:
                count += 1
                total += member.size
                if count > max_entries:
                    raise _bomb(f"The archive has more than {max_entries:,} entries.")
                if total > max_total:
                    raise _bomb(f"The archive expands to more than {human_size(max_total)}.")
    except tarfile.TarError as exc:
        raise UploadRejected("The archive is corrupt.", code="archive_invalid") from exc


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
