"""Upload handler: every received file goes to a temporary file on disk (never whole into
memory), hashed and measured while it streams in, and cut off once it passes the size limit."""

import hashlib

from django.core.files.uploadhandler import TemporaryFileUploadHandler

from uploads.sniff import HEAD_SIZE


class OversizedUpload:
    """Stands in for a file whose body passed the size limit; its bytes were discarded."""

    def __init__(self, name: str, size: int):
        self.name = name
        self.size = size

    def close(self) -> None:
        pass


class HashingUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None, *, max_size: int):
        super().__init__(request)
        self.max_size = max_size

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.sha256 = hashlib.sha256()
        self.head = b""
        self.received = 0
        self.oversized = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.oversized or self.received > self.max_size:
            self.oversized = True
            return None  # keep reading the request, store nothing
        if len(self.head) < HEAD_SIZE:
            self.head += raw_data[: HEAD_SIZE - len(self.head)]
        self.sha256.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self.oversized:
            self.file.close()  # a NamedTemporaryFile: closing removes it
            return OversizedUpload(self.file_name, self.received)
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.sha256.hexdigest()
        uploaded.head = self.head
        return uploaded


def received_file(data: bytes, *, name: str, content_type: str = "application/octet-stream"):
    """A file made on the server (demo data, imports) in the shape the upload handler gives."""
    from django.core.files.uploadedfile import TemporaryUploadedFile

    uploaded = TemporaryUploadedFile(name, content_type, len(data), None)
    uploaded.write(data)
    uploaded.flush()
    uploaded.seek(0)
    uploaded.sha256 = hashlib.sha256(data).hexdigest()
    uploaded.head = data[:HEAD_SIZE]
    return uploaded
