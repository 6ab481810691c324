"""The fake's file host: receipts served from the fake's own base URL under pre-signed URLs.

Export items list ``files`` with a relative ``/files/…`` path; the app turns each into an
absolute URL on the base URL the request came in on, signed (HMAC) with an ``expires`` 24 h
from the fake's clock, as Pleo's URLs are. Content is a small valid PDF or JPEG, padded to the
declared size with seeded bytes, streamed in chunks and never stored. The file-specific faults
(``size_mismatch``, ``oversized``) reach the route through the request scope; ``expired_url``
and ``truncated`` are applied by the fault layer.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from pleo_export.testing._clock import Clock

__all__ = [
    "FILE_FAULTS_EXTENSION",
    "FILE_OPERATION",
    "FILE_URL_TTL",
    "OVERSIZED_BYTES",
    "FileHost",
    "FileRequest",
]

#: Seconds a file URL stays valid after the export item was fetched (Pleo: 24 h).
FILE_URL_TTL: Final = 86_400
#: The route name of file downloads, as fault rules and ``request_counts`` see it.
FILE_OPERATION: Final = "getFile"
#: Scope extension through which the fault layer hands file faults to the route.
FILE_FAULTS_EXTENSION: Final = "pleo_export.file_faults"
#: What an ``oversized`` fault streams, without a Content-Length: more than Pleo's 30 MB.
OVERSIZED_BYTES: Final = 40 * 1024 * 1024
#: File requests remembered for ``FakePleo.file_requests``.
_REQUESTS_KEPT: Final = 1000
_BLOCK: Final = 64 * 1024
_XML: Final = "application/xml"


@dataclass(frozen=True, slots=True)
class FileRequest:
    """One request the file host received: its path and every header, as sent."""

    path: str
    headers: dict[str, str]


def _jpeg(tag: bytes) -> bytes:
    """A valid 1×1 grey baseline JPEG carrying ``tag`` in a comment segment."""
    huffman = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return b"".join(
        (
            b"\xff\xd8",
            b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
            b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag,
            b"\xff\xdb\x00\x43\x00" + b"\x01" * 64,
            b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00",
            b"\xff\xc4\x00\x14\x00" + huffman,
            b"\xff\xc4\x00\x14\x10" + huffman,
            b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00",
            b"\x3f",  # DC difference 0, then end of block; padded with 1 bits
            b"\xff\xd9",
        )
    )


def _pdf(tag: bytes) -> bytes:
    """A valid one-page PDF with ``tag`` in its info dictionary."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        b"<</Title(Receipt " + tag + b")>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R/Info 4 0 R>>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _error(status: int, code: str, message: str) -> Response:
    """An error the way object stores send it: a small XML document."""
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type=_XML)


class FileHost:
    """Signs file URLs, checks them, and streams each file's deterministic content.

    Args:
        seed: fixes the signing key and the padding bytes.
        clock: the fake's clock, which decides when a URL has expired.
    """

    def __init__(self, seed: int, clock: Clock) -> None:
        self.clock = clock
        self._key = hashlib.sha256(f"pleo-fake-files|{seed}".encode()).digest()
        self._block = random.Random(f"file-padding|{seed}").randbytes(_BLOCK)
        self._requests: deque[FileRequest] = deque(maxlen=_REQUESTS_KEPT)
        self._lock = threading.Lock()

    @property
    def requests(self) -> list[FileRequest]:
        """The last file requests received, oldest first."""
        with self._lock:
            return list(self._requests)

    def _signature(self, path: str, media_type: str, size: int, expires: int) -> str:
        message = f"{path}|{media_type}|{size}|{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def sign_files(self, item: dict[str, Any], base_url: str) -> None:
        """Turn the relative file paths of one export item into signed absolute URLs, in place."""
        expires = int(self.clock().timestamp()) + FILE_URL_TTL
        for file in item.get("files") or ():
            path, media_type, size = file["url"], file["type"], file["size"]
            query = urlencode(
                {
                    "type": media_type,
                    "size": size,
                    "expires": expires,
                    "signature": self._signature(path, media_type, size, expires),
                }
            )
            file["url"] = f"{base_url}{path}?{query}"

    def extra_url(self, base_url: str, name: str, media_type: str, size: int) -> str:
        """A signed URL for a file of any size that no export item lists."""
        file: dict[str, Any] = {"url": f"/files/{name}", "type": media_type, "size": size}
        self.sign_files({"files": [file]}, base_url)
        url: str = file["url"]
        return url

    def content(self, url: str) -> bytes:
        """The bytes the host serves for a signed file URL, whatever its expiry."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        return self.file_bytes(parts.path, query["type"], int(query["size"]))

    def file_bytes(self, path: str, media_type: str, size: int) -> bytes:
        """The bytes of the file at ``path`` (an export item's unsigned ``url``)."""
        return b"".join(self._chunks(path, media_type, size))

    def _chunks(self, path: str, media_type: str, size: int) -> Iterator[bytes]:
        tag = hashlib.sha256(path.encode()).hexdigest().encode()
        head = _pdf(tag) if media_type == "application/pdf" else _jpeg(tag)
        head = head[:size]
        yield head
        left = size - len(head)
        block = memoryview(self._block)
        while left > 0:
            step = min(left, _BLOCK)
            yield bytes(block[:step])
            left -= step

    async def _stream(self, path: str, media_type: str, size: int) -> AsyncIterator[bytes]:
        # An async iterator: Starlette would hand a plain one to a thread, chunk by chunk.
        for chunk in self._chunks(path, media_type, size):
            yield chunk

    async def serve(self, request: Request) -> Response:
        """The ``GET /files/…`` route: check the signature and expiry, then stream the file."""
        path = request.url.path
        with self._lock:
            self._requests.append(FileRequest(path, dict(request.headers)))
        if "authorization" in request.headers:
            # Object stores refuse a pre-signed URL that also carries credentials.
            return _error(400, "InvalidArgument", "Only one auth mechanism allowed.")
        query = request.query_params
        try:
            media_type, size, expires = query["type"], int(query["size"]), int(query["expires"])
            signature = query["signature"]
        except (KeyError, ValueError):
            return _error(403, "AccessDenied", "Query-string authentication requires parameters.")
        expected = self._signature(path, media_type, size, expires)
        if not hmac.compare_digest(signature, expected):
            return _error(403, "SignatureDoesNotMatch", "The request signature is not valid.")
        if self.clock().timestamp() > expires:
            return _error(403, "AccessDenied", "Request has expired.")
        faults: set[str] = request.scope.get("extensions", {}).get(FILE_FAULTS_EXTENSION, set())
        if "oversized" in faults:
            # No Content-Length: only counting while streaming can stop it.
            return StreamingResponse(
                self._stream(path, media_type, OVERSIZED_BYTES), media_type=media_type
            )
        if "size_mismatch" in faults:
            size = size // 2
        return StreamingResponse(
            self._stream(path, media_type, size),
            media_type=media_type,
            headers={"content-length": str(size)},
        )
