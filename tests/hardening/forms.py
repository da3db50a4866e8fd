"""Raw multipart/form-data bodies, byte for byte as a hostile client would send them."""

from __future__ import annotations

from collections.abc import AsyncIterator


def form(*parts: tuple[bytes, bytes | None, bytes], boundary: bytes = b"hardening-boundary") -> bytes:
    """A raw multipart/form-data body: (name, filename or None, data) parts, byte for byte as given."""
    body = bytearray()
    for name, filename, data in parts:
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        body += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n"
        if filename is not None:
            body += b"Content-Type: video/mp4\r\n"
        body += b"\r\n" + data + b"\r\n"
    return bytes(body + b"--" + boundary + b"--\r\n")


FORM_TYPE = "multipart/form-data; boundary=hardening-boundary"


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body streamed without a Content-Length, like a chunked upload."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
