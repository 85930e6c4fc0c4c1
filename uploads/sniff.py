"""Content types from a file's first bytes (magic numbers); the client's header is never trusted."""

from dataclasses import dataclass

HEAD_SIZE = 8192


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


# (offset, signature, content type, extension); first match wins.
_SIGNATURES: list[tuple[int, bytes, str, str]] = [
    (0, b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (0, b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (0, b"GIF87a", "image/gif", ".gif"),
    (0, b"GIF89a", "image/gif", ".gif"),
    (0, b"%PDF-", "application/pdf", ".pdf"),
    (0, b"PK\x03\x04", "application/zip", ".zip"),
    (0, b"PK\x05\x06", "application/zip", ".zip"),
    (0, b"\x1f\x8b", "application/gzip", ".gz"),
    (257, b"ustar", "application/x-tar", ".tar"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", ""),
    (0, b"ID3", "audio/mpeg", ".mp3"),
    (0, b"fLaC", "audio/flac", ".flac"),
    (0, b"\x00\x00\x01\xba", "video/mpeg", ".mpg"),
    (0, b"\x00\x00\x01\xb3", "video/mpeg", ".mpg"),
    # Never accepted, but named so the rejection says what was sent.
    (0, b"MZ", "application/x-msdownload", ".exe"),
    (0, b"\x7fELF", "application/x-executable", ""),
    (0, b"\xcf\xfa\xed\xfe", "application/x-mach-binary", ""),
    (0, b"#!", "text/x-shellscript", ".sh"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar", ".rar"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", ".7z"),
]

_MP4_BRANDS = {
    b"isom": ("video/mp4", ".mp4"),
    b"iso2": ("video/mp4", ".mp4"),
    b"mp41": ("video/mp4", ".mp4"),
    b"mp42": ("video/mp4", ".mp4"),
    b"avc1": ("video/mp4", ".mp4"),
    b"M4V ": ("video/mp4", ".m4v"),
    b"qt  ": ("video/quicktime", ".mov"),
    b"M4A ": ("audio/mp4", ".m4a"),
}

_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<head", b"<body", b"<iframe")

OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
    ),
}


def sniff(head: bytes, *, name: str = "") -> Sniffed | None:
    """The type of a file whose first bytes are `head`, or None when it is not recognised.

    `name` only refines types the bytes cannot tell apart (CSV from plain text, Word from Excel
    in the legacy OLE container); it never makes unrecognised bytes acceptable.
    """
    lowered_name = name.lower()
    for offset, signature, content_type, extension in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if content_type == "application/x-ole-storage":
                if lowered_name.endswith(".xls"):
                    return Sniffed("application/vnd.ms-excel", ".xls")
                return Sniffed("application/msword", ".doc")
            return Sniffed(content_type, extension)
    if head[4:8] == b"ftyp":
        brand = _MP4_BRANDS.get(head[8:12])
        if brand:
            return Sniffed(*brand)
    if head[:4] == b"RIFF":
        if head[8:12] == b"WEBP":
            return Sniffed("image/webp", ".webp")
        if head[8:12] == b"WAVE":
            return Sniffed("audio/wav", ".wav")
        if head[8:12] == b"AVI ":
            return Sniffed("video/x-msvideo", ".avi")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if b"webm" in head[:64]:
            return Sniffed("video/webm", ".webm")
        return Sniffed("video/x-matroska", ".mkv")
    if head[:4] == b"OggS":
        if b"\x80theora" in head[:128]:
            return Sniffed("video/ogg", ".ogv")
        return Sniffed("audio/ogg", ".ogg")
    if len(head) >= 2 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2):
        return Sniffed("audio/mpeg", ".mp3")
    return _sniff_text(head, lowered_name)


def _sniff_text(head: bytes, lowered_name: str) -> Sniffed | None:
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end in the middle of a multi-byte character.
        if exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip("\ufeff \t\r\n").lower().encode()
    if stripped.startswith(_MARKUP) or b"<script" in stripped[:1024]:
        return Sniffed("text/html", ".html")
    if lowered_name.endswith(".csv"):
        return Sniffed("text/csv", ".csv")
    if lowered_name.endswith(".md"):
        return Sniffed("text/markdown", ".md")
    return Sniffed("text/plain", ".txt")
