"""One file of an export item (``ItemFile``) and moving its bytes from one URL into a sink
(memory or a temporary file), for ``_files``.

``ItemFile`` lives here, below ``Files``, because both the transfer and the service speak of it.
One ``Transfer.fetch`` is one URL attempted with the client's retry policy: no Pleo credentials
on the request, the size cap checked on the announced length and again chunk by chunk, the
SHA-256 taken on the way, the declared size checked at the end. Refreshing a refused URL, the
concurrency slots and the deadline are ``Files``' business.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, Protocol, TypeVar

import httpx

from ._config import USER_AGENT
from ._errors import FileDownloadError, FileSizeMismatchError, FileTooLargeError, body_snippet
from ._retry import (
    RetryableStatus,
    RetryPolicy,
    retry_after,
    retry_after_first,
    should_retry_status,
)

__all__ = [
    "ItemFile",
    "Memory",
    "Received",
    "Refused",
    "Sink",
    "TempFile",
    "Transfer",
    "file_error",
]

logger: Final = logging.getLogger("pleo_export")

#: A pre-signed URL that expired or was revoked: S3 answers 403, other stores 404 or 410.
_REFRESH_STATUSES: Final = frozenset({403, 404, 410})
#: Redirects one file download follows (httpx's own default is 20).
MAX_FILE_REDIRECTS: Final = 10
#: Content types that say nothing; the declared ``type`` is kept instead.
_GENERIC_TYPES: Final = frozenset({"", "application/octet-stream", "binary/octet-stream"})

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ItemFile:
    """One file of an export item, as Pleo lists it (``ExportItemFile``).

    Get them with ``pleo.files.of(export_item, job_id=...)`` or ``work.files()``.

    Attributes:
        url: the pre-signed URL, valid 24 h from when the export item was fetched. It is a
            credential of its own and is left out of the repr.
        media_type: the declared MIME type, e.g. ``application/pdf``.
        size: the declared size in bytes.
        index: the file's place in the item's list (Pleo keeps upload order).
        accounting_entry_id: the export item's entry; with ``job_id`` it lets an expired URL
            be refreshed.
        job_id: the export job the item was read from.
    """

    url: str = field(repr=False)
    media_type: str
    size: int
    index: int = 0
    accounting_entry_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None

    @property
    def host(self) -> str:
        """The host the URL points at (safe to log, unlike the URL)."""
        try:
            return httpx.URL(self.url).host or "?"
        except httpx.InvalidURL:
            return "?"


class Refused(Exception):
    """The file host refused the URL with a status a fresh URL may cure."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Short(Exception):
    """The body ended cleanly but its length differs from the declared size."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


class Sink(Protocol):
    """Where a download's chunks go; ``open`` starts (or restarts) the content."""

    def open(self) -> None: ...

    def write(self, chunk: bytes) -> None: ...


class Memory:
    """Collects the content in memory (for ``read``; bounded by the size cap)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def open(self) -> None:
        """Start the content afresh (a retried attempt)."""
        self.buffer.clear()

    def write(self, chunk: bytes) -> None:
        """Keep one chunk."""
        self.buffer += chunk


class TempFile:
    """Writes the content to a hidden file beside ``target``, so a failed or cut download never
    leaves a partial file under the final name; ``commit`` renames it into place."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        self._handle: BinaryIO | None = None

    def open(self) -> None:
        """(Re)create the temporary file empty (a retried attempt starts over)."""
        if self._handle is not None:
            self._handle.close()
        self._handle = self.temp.open("wb")

    def write(self, chunk: bytes) -> None:
        """Write one chunk to the temporary file."""
        assert self._handle is not None
        # A blocking write of one chunk (64 KiB at most over TCP) costs microseconds; a thread
        # hop per chunk would cost more than it saves.
        self._handle.write(chunk)

    def commit(self, target: Path) -> None:
        """Close the temporary file and rename it to ``target``."""
        self.close()
        os.replace(self.temp, target)

    def close(self) -> None:
        """Close the temporary file, if open."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        """Close and delete the temporary file (nothing happens once it was committed)."""
        self.close()
        self.temp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Received:
    """What a complete download gave: the content's hash, media type and length."""

    sha256: str
    media_type: str
    size: int


class Transfer:
    """Downloads one URL at a time for ``Files``; see the module docstring.

    Args:
        client: the pool to use; None makes a separate one on first use (closed by ``aclose``).
        retry: the client's retry policy.
        timeout: per-request timeouts.
        max_size: the size cap in bytes.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None,
        retry: RetryPolicy,
        timeout: httpx.Timeout,
        max_size: int,
    ) -> None:
        self.max_size = max_size
        self._client = client
        self._owns_client = client is None
        self._retry = retry
        self._timeout = timeout

    async def aclose(self) -> None:
        """Close the separate pool, if this made one."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, file: ItemFile, url: str, sink: Sink) -> Received:
        """Download ``url`` into ``sink`` with the client's retry policy.

        Raises:
            Refused: 403/404/410, for the caller to refresh the URL.
            FileDownloadError: anything else that did not end in the whole file.
        """
        policy = self._retry
        number = 0

        def on_failure(exc: Exception) -> bool | float:
            if number > policy.max_retries:
                return False
            if isinstance(exc, RetryableStatus):
                wait = retry_after(exc.response.headers, cap=policy.retry_after_max)
                return True if wait is None else wait
            return isinstance(exc, httpx.TransportError | _Short)

        async def attempt_once(num: int) -> Received:
            nonlocal number
            number = num
            return await self._attempt(file, url, sink)

        try:
            try:  # attempt 1 outside the retry loop (see retry_after_first)
                return await attempt_once(1)
            except (RetryableStatus, httpx.TransportError, _Short) as exc:
                first = exc
            logger.info(
                "file %d of entry %s: retrying after %s",
                file.index,
                file.accounting_entry_id,
                type(first).__name__,
            )
            return await retry_after_first(policy, on_failure, attempt_once, first)
        except RetryableStatus as exc:
            status = exc.response.status_code
            raise file_error(
                FileDownloadError, f"the file host answered {status}", file, status
            ) from None
        except _Short as exc:
            raise file_error(
                FileSizeMismatchError,
                f"received {exc.received} bytes, declared {file.size}",
                file,
            ) from None
        except httpx.TimeoutException as exc:
            raise file_error(FileDownloadError, f"timed out: {type(exc).__name__}", file) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # Not chained: httpx's own text may quote the URL, whose query is a credential.
            text = body_snippet(str(exc).replace(url, file.host).encode())
            raise file_error(
                FileDownloadError, f"download failed: {type(exc).__name__}: {text}", file
            ) from None

    async def _attempt(self, file: ItemFile, url: str, sink: Sink) -> Received:
        """One GET of ``url``: status, announced length, then the body chunk by chunk."""
        response = await self._get(url)
        try:
            status = response.status_code
            if status in _REFRESH_STATUSES:
                raise Refused(status)
            if should_retry_status(status):
                raise RetryableStatus(response)
            if not 200 <= status < 300:
                raise file_error(
                    FileDownloadError, f"the file host answered {status}", file, status
                )
            announced = response.headers.get("content-length", "")
            if announced.isdigit() and int(announced) > self.max_size:
                raise file_error(
                    FileTooLargeError,
                    f"{announced} bytes announced, over the {self.max_size}-byte cap",
                    file,
                )
            sink.open()
            digest = hashlib.sha256()
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > self.max_size:
                    raise file_error(
                        FileTooLargeError,
                        f"stopped at {received} bytes, over the {self.max_size}-byte cap",
                        file,
                    )
                digest.update(chunk)
                sink.write(chunk)
            if received != file.size:
                raise _Short(received)
            return Received(digest.hexdigest(), _media_type(response, file), received)
        finally:
            await response.aclose()

    async def _get(self, url: str) -> httpx.Response:
        """The streamed answer to a GET of ``url``, following up to ``MAX_FILE_REDIRECTS``.

        Every hop is built apart from the client, so none of its default headers (an
        Authorization a caller set there included) nor its cookie jar is added, and sent with
        its auth and its own redirect following off: httpx's redirects would carry the jar to
        every host on the way.

        Raises:
            httpx.InvalidURL: ``url`` or a Location does not parse.
            httpx.TooManyRedirects: more than ``MAX_FILE_REDIRECTS`` hops.
        """
        client = self._http()
        target = httpx.URL(url)
        for _ in range(MAX_FILE_REDIRECTS + 1):
            request = httpx.Request(
                "GET",
                target,
                headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
                extensions={"timeout": self._timeout.as_dict()},
            )
            response = await client.send(request, stream=True, auth=None, follow_redirects=False)
            if not response.has_redirect_location:
                return response
            await response.aclose()
            target = request.url.join(response.headers["location"])
        raise httpx.TooManyRedirects(f"more than {MAX_FILE_REDIRECTS} redirects", request=request)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client


def file_error(cls: Callable[..., R], message: str, file: ItemFile, status: int | None = None) -> R:
    """A ``FileDownloadError`` of class ``cls`` about ``file``, naming its host only."""
    entry = None if file.accounting_entry_id is None else str(file.accounting_entry_id)
    return cls(
        message, host=file.host, accounting_entry_id=entry, index=file.index, status_code=status
    )


def _media_type(response: httpx.Response, file: ItemFile) -> str:
    sent = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return file.media_type if sent in _GENERIC_TYPES else sent
