"""One item of work as a handler is given it: ``WorkItem``, the files of its export item
(``ItemFile``, ``item_files``), and the item failure type a file error names
(``item_failure_type``).

Plain values below the run, the reader, the answers and the file downloads, which all speak of
them; fetching the files is ``_files``' business.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

from ._errors import FileDownloadError
from ._port import EntryLike

__all__ = ["ItemFile", "WorkItem", "item_failure_type", "item_files"]

ItemT_co = TypeVar("ItemT_co", bound=EntryLike, covariant=True)
ExportT_co = TypeVar("ExportT_co", bound=EntryLike, covariant=True)


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


@dataclass(frozen=True, slots=True)
class WorkItem(Generic[ItemT_co, ExportT_co]):
    """One item still to export: its job item (control layer) and export item (data layer).

    Attributes:
        item: the job item (``ExportJobItemV3``, or ``ExportJobItem`` on v2).
        export_item: the accounting data (``ExportItemV3``, or ``ExportItemV2``).
        in_doubt: True when an earlier run handed this entry out and recorded no outcome (it
            crashed, or was superseded, in between): the entry may already be booked, so look
            it up in the accounting system by ``accounting_entry_id`` before booking it.
        fencing_token: the run's lease token; it grows with every lease of the job, so storing
            it beside a booking tells which run wrote it.
    """

    item: ItemT_co
    export_item: ExportT_co
    in_doubt: bool = False
    fencing_token: int = 0

    @property
    def accounting_entry_id(self) -> uuid.UUID:
        """The accounting entry both halves describe; the key of every outcome."""
        entry: uuid.UUID = self.item.accounting_entry_id
        return entry

    def files(self) -> list[ItemFile]:
        """The export item's files (receipts), tied to this job so that ``pleo.files.read``,
        ``save`` and ``store`` can fetch a fresh URL when one has expired."""
        job_id = getattr(self.item, "export_job_id", None)  # both versions' job items have it
        return item_files(self.export_item, job_id if isinstance(job_id, uuid.UUID) else None)
