"""A multipart/form-data body streamed from a file on disk.

``requests`` builds ``files=`` bodies in memory, which is wrong for attachments of hundreds of
megabytes. This object knows its length up front (so the request carries Content-Length
instead of chunked encoding, which Jira handles poorly) and is read in blocks by http.client.
"""
import mimetypes
import os
import uuid

CHUNK = 64 * 1024


class MultipartFile:
    """One ``file`` part holding the file at ``path``; pass as ``data=`` to requests."""

    def __init__(self, path, filename=None, mime_type=None, field="file"):
        filename = filename or os.path.basename(path)
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self.boundary = uuid.uuid4().hex
        quoted = " ".join(filename.replace("\\", "\\\\").replace('"', '\\"').splitlines())
        self._head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            f"Content-Type: {mime_type}\r\n\r\n"
        ).encode("utf-8")
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        self._path = path
        self._size = os.path.getsize(path)
        self._parts = None

    @property
    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self):
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self):
        yield self._head
        with open(self._path, "rb") as fh:
            while True:
                block = fh.read(CHUNK)
                if not block:
                    break
                yield block
        yield self._tail

    def read(self, size=-1):
        """File-like reading, so http.client sends the body block by block."""
        if self._parts is None:
            self._parts = iter(self)
            self._buffer = b""
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._parts, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
