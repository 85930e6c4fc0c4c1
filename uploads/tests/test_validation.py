"""Content types from magic bytes, and the limits that refuse bombs and floods."""

import gzip
import io
import tarfile
import zipfile

import pytest

from uploads.errors import UploadRejected
from uploads.sniff import sniff
from uploads.tests.factories import (
    PDF,
    crafted_png,
    docx_bytes,
    jpeg_with_exif,
    lying_zip,
    png_bytes,
    zip_bytes,
)
from uploads.validation import inspect_file


def _inspect(tmp_path, data: bytes, name: str = "upload.bin"):
    path = tmp_path / "upload"
    path.write_bytes(data)
    return inspect_file(path=str(path), head=data[:8192], name=name, size=len(data))


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (png_bytes(10, 10), "x.exe", "image/png"),
        (jpeg_with_exif(20, 20), "photo", "image/jpeg"),
        (PDF, "report.png", "application/pdf"),
        (b"GIF89a" + b"\x00" * 20, "", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "", "image/webp"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "", "video/mp4"),
        (b"ID3\x03\x00", "", "audio/mpeg"),
        (b"a,b\n1,2\n", "data.csv", "text/csv"),
        ("héllo wörld\n".encode(), "notes", "text/plain"),
        (b"<!DOCTYPE html><script>alert(1)</script>", "x.png", "text/html"),
        (b"MZ\x90\x00", "setup.pdf", "application/x-msdownload"),
        (b"\x7fELF\x02\x01", "", "application/x-executable"),
    ],
)
def test_content_type_comes_from_the_bytes_not_the_name(data, name, content_type):
    assert sniff(data, name=name).content_type == content_type


def test_binary_noise_is_not_recognised():
    assert sniff(b"\x00\x01\x02\x03garbage\x00") is None


def test_a_spoofed_image_is_refused(tmp_path):
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, b"<html><body>not an image</body></html>", "cat.png")
    assert exc.value.code == "unsupported_type"
    assert "text/html" in exc.value.message


def test_executables_are_refused(tmp_path):
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, b"MZ" + b"\x00" * 100, "invoice.pdf")
    assert exc.value.code == "unsupported_type"


def test_images_get_their_dimensions(tmp_path):
    inspection = _inspect(tmp_path, png_bytes(640, 480))
    assert inspection.kind == "image"
    assert inspection.extension == ".png"
    assert inspection.metadata["width"] == 640
    assert inspection.metadata["height"] == 480


def test_a_pixel_flood_is_refused_before_decoding(tmp_path, settings):
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, crafted_png(100_000, 100_000))
    assert exc.value.code == "image_too_large"


def test_an_image_just_over_the_pixel_limit_is_refused(tmp_path, settings):
    settings.UPLOADS_MAX_IMAGE_PIXELS = 10_000
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, png_bytes(120, 100))  # 12,000 pixels: Pillow only warns
    assert exc.value.code == "image_too_large"


def test_an_image_with_a_side_over_the_limit_is_refused(tmp_path, settings):
    settings.UPLOADS_MAX_IMAGE_SIDE = 500
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, png_bytes(600, 10))
    assert exc.value.code == "image_too_large"
    assert "600x10" in exc.value.message


def test_a_truncated_image_is_refused(tmp_path):
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, png_bytes(200, 200)[:60])
    assert exc.value.code == "image_invalid"


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path, settings):
    settings.UPLOADS_ARCHIVE_MAX_RATIO = 50
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, zip_bytes({"zeros.bin": b"\x00" * 5_000_000}))
    assert exc.value.code == "archive_bomb"


def test_a_zip_bomb_is_refused_by_its_total_size(tmp_path, settings):
    settings.UPLOADS_ARCHIVE_MAX_TOTAL = 1_000_000
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, zip_bytes({f"{i}.txt": bytes(range(256)) * 1000 for i in range(5)}))
    assert exc.value.code == "archive_bomb"


def test_a_zip_whose_headers_lie_about_sizes_is_refused_by_what_it_expands_to(tmp_path):
    crafted = lying_zip({"zeros.bin": b"\x00" * 5_000_000}, claimed_size=10)
    with zipfile.ZipFile(io.BytesIO(crafted)) as archive:
        assert [e.file_size for e in archive.infolist()] == [10]  # the headers pass the limits
    assert len(crafted) < 10_000
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, crafted)
    assert exc.value.code == "archive_bomb"


def test_a_lying_zip_within_the_limits_is_measured_by_its_content(tmp_path, settings):
    settings.UPLOADS_ARCHIVE_MAX_TOTAL = 100_000
    crafted = lying_zip({f"{i}.txt": bytes(range(256)) * 200 for i in range(3)}, claimed_size=1)
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, crafted)
    assert exc.value.code == "archive_bomb"
    honest = zip_bytes({f"{i}.txt": bytes(range(256)) * 100 for i in range(3)})
    assert _inspect(tmp_path, honest).content_type == "application/zip"


def test_a_zip_with_too_many_entries_is_refused(tmp_path, settings):
    settings.UPLOADS_ARCHIVE_MAX_ENTRIES = 10
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, zip_bytes({f"{i}.txt": b"x" for i in range(11)}))
    assert exc.value.code == "archive_bomb"


def test_a_gzip_bomb_is_refused_while_counting(tmp_path, settings):
    settings.UPLOADS_ARCHIVE_MAX_RATIO = 50
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, gzip.compress(b"\x00" * 5_000_000))
    assert exc.value.code == "archive_bomb"


def test_a_tar_with_too_many_entries_is_refused(tmp_path, settings):
    settings.UPLOADS_ARCHIVE_MAX_ENTRIES = 3
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for i in range(4):
            info = tarfile.TarInfo(f"{i}.txt")
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, buffer.getvalue())
    assert exc.value.code == "archive_bomb"


def test_ordinary_archives_and_office_files_pass(tmp_path):
    assert _inspect(tmp_path, zip_bytes({"a.txt": b"hello"})).content_type == "application/zip"
    docx = _inspect(tmp_path, docx_bytes(), "letter.zip")
    assert docx.content_type.endswith("wordprocessingml.document")
    assert docx.extension == ".docx"
    assert docx.kind == "document"
    assert _inspect(tmp_path, gzip.compress(b"log line\n" * 100)).kind == "archive"


def test_empty_and_oversized_files_are_refused(tmp_path, settings):
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, b"")
    assert exc.value.code == "empty_file"
    settings.UPLOADS_MAX_FILE_SIZE = 10
    with pytest.raises(UploadRejected) as exc:
        _inspect(tmp_path, b"0123456789ab")
    assert exc.value.code == "too_large"
    assert exc.value.status_code == 413
