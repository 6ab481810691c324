"""Downloading the files of export items (receipts, invoices): ``pleo.files``.

A download goes to the file's pre-signed URL without Pleo's credentials, streams under a size
cap, hashes (SHA-256) as it goes, checks the declared size, retries with the client's policy and
refreshes a refused URL once by reading the export item again. Where the bytes go (memory, a
file, a content-addressed directory) is the caller's choice; uploading them is not done here.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import mimetypes
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import httpx

from ._config import (
    DEFAULT_FILE_CONCURRENCY,
    DEFAULT_FILE_DEADLINE,
    DEFAULT_MAX_FILE_SIZE,
    FILE_REFRESH_KEPT,
    FILE_REFRESH_TTL,
)
from ._download import ItemFile, Memory, Received, Refused, Sink, TempFile, Transfer, file_error
from ._errors import (
    FileDownloadError,
    FileExpiredError,
    FileTooLargeError,
    PleoError,
)
from ._retry import RetryPolicy
from ._validation import check_int, check_uuid

if TYPE_CHECKING:
    from ._resources.export_items import ExportItemsV2, ExportItemsV3
    from .models import ExportItemV2, ExportItemV3

__all__ = ["DownloadedFile", "Files", "ItemFile", "item_failure_type"]

logger: Final = logging.getLogger("pleo_export")


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    """A file downloaded in full, with what an integration needs to upload it once.

    Attributes:
        file: the ``ItemFile`` it came from.
        sha256: hex SHA-256 of the content: a content-addressed key that tells a retried
            upload of the same file from a new one.
        media_type: the ``Content-Type`` the file host sent, or the declared type where it
            sent none or a generic one.
        size: bytes received (equal to the declared size).
        path: where it was written (``save`` and ``store``), else None.
        content: the bytes (``read``), else None; left out of the repr.
    """

    file: ItemFile
    sha256: str
    media_type: str
    size: int
    path: Path | None = None
    content: bytes | None = field(default=None, repr=False)


def item_failure_type(exc: BaseException) -> str | None:
    """The Pleo item failure type that fits an exception, or None if none does.

    ``receipt_file_size_limit_exceeded`` for ``FileTooLargeError``,
    ``receipt_download_failure`` for any other ``FileDownloadError``.
    """
    return exc.failure_type if isinstance(exc, FileDownloadError) else None


def item_files(export_item: object, job_id: uuid.UUID | None) -> list[ItemFile]:
    """The files of an export item (a v2 or v3 model) as ``ItemFile`` values, in its order."""
    listed = getattr(export_item, "files", None)
    if not isinstance(listed, list):  # None, or the generated models' UNSET
        return []
    entry = getattr(export_item, "accounting_entry_id", None)
    return [
        ItemFile(
            url=file.url,
            media_type=file.type_,
            size=file.size,
            index=index,
            accounting_entry_id=entry if isinstance(entry, uuid.UUID) else None,
            job_id=job_id,
        )
        for index, file in enumerate(listed)
    ]


class Files:
    """Downloads the files of export items: ``pleo.files``.

    Every download:

    * sends no Pleo credentials: the URL is pre-signed and may point anywhere. The client's
      own pool is used with its auth and default headers switched off, or a separate pool
      when the SDK made its own (or ``file_client=`` was given);
    * stops once the body passes ``max_size`` bytes (default 30 MiB), before the next chunk
      is kept, and refuses an announced or declared size over it without downloading;
    * checks the bytes received against the declared ``size`` and hashes them (SHA-256);
    * retries connection errors, timeouts, 408/429/5xx and short bodies with the client's
      retry policy, and on 403/404/410 reads the export item again once for a fresh URL;
    * waits for one of ``concurrency`` slots (default 4) shared by every download of the
      client, and gives up after ``deadline`` seconds in all (default 300).

    Failures raise ``FileDownloadError`` subclasses whose ``failure_type`` is the Pleo item
    failure type to report (``receipt_download_failure``, ``receipt_file_size_limit_exceeded``).
    """

    def __init__(
        self,
        export_items: ExportItemsV3 | ExportItemsV2,
        *,
        client: httpx.AsyncClient | None,
        retry: RetryPolicy,
        timeout: httpx.Timeout,
        max_size: int = DEFAULT_MAX_FILE_SIZE,
        concurrency: int = DEFAULT_FILE_CONCURRENCY,
        deadline: float = DEFAULT_FILE_DEADLINE,
    ) -> None:
        self.max_size = check_int(max_size, "max_file_size", minimum=1)
        self.concurrency = check_int(concurrency, "file_concurrency", minimum=1)
        self.deadline = deadline
        self._export_items = export_items
        self._transfer = Transfer(client=client, retry=retry, timeout=timeout, max_size=max_size)
        self._slots = asyncio.Semaphore(concurrency)
        self._refresh_lock = asyncio.Lock()
        self._fresh: collections.OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[float, list[str]]]
        self._fresh = collections.OrderedDict()

    def __repr__(self) -> str:
        return f"<Files max_size={self.max_size} concurrency={self.concurrency}>"

    def of(
        self, export_item: ExportItemV3 | ExportItemV2, *, job_id: str | uuid.UUID | None = None
    ) -> list[ItemFile]:
        """The files of an export item, in Pleo's (upload) order.

        Args:
            export_item: a v3 or v2 export item.
            job_id: the job it was read from; without it an expired URL cannot be refreshed.
        """
        job = None if job_id is None else check_uuid(job_id, "job_id")
        return item_files(export_item, job)

    async def read(self, file: ItemFile) -> DownloadedFile:
        """Download a file into memory (at most ``max_size`` bytes).

        Raises:
            FileDownloadError: see the class docstring.
        """
        sink = Memory()
        received = await self._download(file, sink)
        return DownloadedFile(
            file, received.sha256, received.media_type, received.size, content=bytes(sink.buffer)
        )

    async def save(self, file: ItemFile, path: str | os.PathLike[str]) -> DownloadedFile:
        """Stream a file to ``path``, one chunk in memory at a time.

        The bytes go to a hidden temporary file in the same directory, renamed to ``path``
        only once complete and checked, so ``path`` never holds a partial file.

        Raises:
            FileDownloadError: see the class docstring; ``path`` is then left untouched.
            OSError: the file cannot be written.
        """
        target = Path(path)
        sink = TempFile(target)
        try:
            received = await self._download(file, sink)
            sink.commit(target)
        finally:
            sink.discard()
        return DownloadedFile(file, received.sha256, received.media_type, received.size, target)

    async def store(self, file: ItemFile, directory: str | os.PathLike[str]) -> DownloadedFile:
        """Stream a file into a content-addressed ``directory``: ``<sha256><extension>``.

        A file whose content is already there (the same SHA-256) is not written again, so
        the directory holds one copy per distinct content however often it is downloaded.

        Raises:
            FileDownloadError: see the class docstring.
            OSError: the file cannot be written.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - one cheap call per file
        sink = TempFile(folder / "download")
        try:
            received = await self._download(file, sink)
            target = folder / (received.sha256 + _extension(received.media_type))
            if target.exists():
                logger.debug("file %s already stored", target.name)
            else:
                sink.commit(target)
        finally:
            sink.discard()
        return DownloadedFile(file, received.sha256, received.media_type, received.size, target)

    async def aclose(self) -> None:
        """Close the separate pool of file downloads, if the SDK made one."""
        await self._transfer.aclose()

    async def _download(self, file: ItemFile, sink: Sink) -> Received:
        if file.size > self.max_size:
            raise file_error(
                FileTooLargeError,
                f"declared {file.size} bytes, over the {self.max_size}-byte cap",
                file,
            )
        async with self._slots:
            try:
                async with asyncio.timeout(self.deadline):
                    return await self._refreshing(file, sink)
            except TimeoutError:
                raise file_error(
                    FileDownloadError, f"not done after {self.deadline:g} s", file
                ) from None

    async def _refreshing(self, file: ItemFile, sink: Sink) -> Received:
        """Download; on 403/404/410 fetch the export item again once and try its new URL."""
        url = file.url
        try:
            return await self._transfer.fetch(file, url, sink)
        except Refused as refused:
            if file.job_id is None or file.accounting_entry_id is None:
                raise file_error(
                    FileExpiredError,
                    f"the file host answered {refused.status} (expired or revoked URL; no job "
                    "to fetch a fresh one from)",
                    file,
                    refused.status,
                ) from None
            logger.info(
                "file %d of entry %s: URL refused, refreshing", file.index, file.accounting_entry_id
            )
        url = await self._fresh_url(file, url)
        try:
            return await self._transfer.fetch(file, url, sink)
        except Refused as refused:
            raise file_error(
                FileExpiredError,
                f"the file host answered {refused.status}, also for a fresh URL",
                file,
                refused.status,
            ) from None

    async def _fresh_url(self, file: ItemFile, failed: str) -> str:
        """The file's URL from the export item read again (or read moments ago)."""
        job_id, entry = file.job_id, file.accounting_entry_id
        assert job_id is not None
        assert entry is not None
        key = (job_id, entry)
        async with self._refresh_lock:  # concurrent refreshes of one job share one walk
            urls = self._cached(key)
            if urls is None or failed in urls:
                try:
                    await self._walk(job_id, entry)
                except PleoError as exc:
                    raise file_error(
                        FileExpiredError,
                        f"the URL was refused and reading the export item again failed: "
                        f"{type(exc).__name__}",
                        file,
                    ) from exc
                urls = self._cached(key)
        if urls is None or file.index >= len(urls):
            raise file_error(FileExpiredError, "the export item no longer lists this file", file)
        return urls[file.index]

    def _cached(self, key: tuple[uuid.UUID, uuid.UUID]) -> list[str] | None:
        found = self._fresh.get(key)
        if found is None or time.monotonic() - found[0] > FILE_REFRESH_TTL:
            return None
        return found[1]

    async def _walk(self, job_id: uuid.UUID, entry: uuid.UUID) -> None:
        """Page through the job's export items up to the page holding ``entry``, remembering
        the fresh file URLs of every item on the way (so the next refresh in the same job is
        usually answered without a request)."""
        pager = self._export_items.list(job_id, prefetch=0)
        async with pager:  # closes the page stream when the entry's page ends the walk
            async for page in pager.pages():
                found = False
                for item in page.items:
                    listed = item_files(item, job_id)
                    if listed:
                        urls = [f.url for f in listed]
                        self._remember((job_id, item.accounting_entry_id), urls)
                    found = found or item.accounting_entry_id == entry
                if found:
                    return

    def _remember(self, key: tuple[uuid.UUID, uuid.UUID], urls: list[str]) -> None:
        self._fresh[key] = (time.monotonic(), urls)
        self._fresh.move_to_end(key)
        while len(self._fresh) > FILE_REFRESH_KEPT:
            self._fresh.popitem(last=False)


def _extension(media_type: str) -> str:
    return mimetypes.guess_extension(media_type) or ""
