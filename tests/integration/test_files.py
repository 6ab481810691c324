"""Receipts end to end: ``pleo.files`` against the fake's file host, in-process and over loopback
TCP, through every file fault, the fake clock's URL expiry, an export run and the worker."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from pleo_export import (
    Booked,
    ExportWorker,
    FileExpiredError,
    FileSizeMismatchError,
    FileTooLargeError,
    ItemFile,
    PleoExport,
    WorkItem,
)
from pleo_export.testing import DEFAULT_API_KEY, FILE_URL_TTL, FakePleo, ManualClock

from .conftest import IN_PROCESS_URL

#: Jobs idle this long stay alive while a test moves the clock a day on.
LONG = 10 * FILE_URL_TTL


async def _files(pleo: PleoExport, job_id: str) -> list[ItemFile]:
    found: list[ItemFile] = []
    async for item in pleo.export_items.list(job_id):
        found += pleo.files.of(item, job_id=job_id)
    return found


@pytest.fixture
def job_id(fake_pleo: FakePleo) -> str:
    """A running job of 12 items, about half of them with receipts."""
    return fake_pleo.add_job(items=12, status="in_progress", expires_in=LONG)


@pytest.fixture(params=["in-process", "tcp"])
def client(request: pytest.FixtureRequest) -> PleoExport:
    """The v3 client, served by the fake in-process or over loopback TCP."""
    fixture = "pleo" if request.param == "in-process" else "pleo_tcp"
    client: PleoExport = request.getfixturevalue(fixture)
    return client


async def test_files_match_what_the_fake_serves(
    client: PleoExport, fake_pleo: FakePleo, job_id: str
) -> None:
    """Every file reads back byte for byte, with its hash and media type, over both transports."""
    files = await _files(client, job_id)
    assert len(files) >= 4
    for file in files:
        got = await client.files.read(file)
        expected = fake_pleo.file_content(file.url)
        assert got.content == expected
        assert got.sha256 == hashlib.sha256(expected).hexdigest()
        assert got.media_type == file.media_type
    assert expected.startswith((b"%PDF-", b"\xff\xd8\xff"))


async def test_the_file_host_never_sees_credentials(
    client: PleoExport, fake_pleo: FakePleo, job_id: str
) -> None:
    """No file request reaching the fake carries an Authorization header (or the API key):
    the fake would also answer such a request 400, as object stores do."""
    for file in await _files(client, job_id):
        await client.files.read(file)
    requests = fake_pleo.file_requests
    assert requests
    for request in requests:
        assert "authorization" not in request.headers
        assert DEFAULT_API_KEY not in str(request.headers)


async def test_expired_urls_are_refreshed_by_the_fake_clock(
    client: PleoExport, fake_pleo: FakePleo, fake_pleo_clock: ManualClock, job_id: str
) -> None:
    """A day later every URL is refused; each download reads the items again for a fresh URL,
    and one walk of the job serves the refreshes of all its files."""
    files = await _files(client, job_id)
    fake_pleo_clock.advance(seconds=FILE_URL_TTL + 1)
    listings = fake_pleo.request_counts["getExportItemsV3"]
    for file in files:
        got = await client.files.read(file)
        assert got.content == fake_pleo.file_content(file.url)
    assert fake_pleo.request_counts["getExportItemsV3"] - listings == 1


async def test_expired_url_fault_is_refreshed_once(
    pleo: PleoExport, fake_pleo: FakePleo, job_id: str
) -> None:
    """One injected ``expired_url`` costs one refresh; two in a row end in ``FileExpiredError``."""
    file = (await _files(pleo, job_id))[0]
    fake_pleo.faults.add("expired_url", times=1)
    assert (await pleo.files.read(file)).size == file.size
    fake_pleo.faults.add("expired_url", times=2)
    with pytest.raises(FileExpiredError) as caught:
        await pleo.files.read(file)
    assert caught.value.status_code == 403
    assert caught.value.failure_type == "receipt_download_failure"


@pytest.mark.parametrize("kind", ["status", "drop", "truncated"])
async def test_transient_file_faults_are_retried(
    client: PleoExport, fake_pleo: FakePleo, job_id: str, kind: str
) -> None:
    """A 503, a dropped connection and a body cut short are retried until the file arrives."""
    file = (await _files(client, job_id))[0]
    fake_pleo.faults.add(kind, route="getFile", times=2)  # type: ignore[arg-type]
    got = await client.files.read(file)
    assert got.content == fake_pleo.file_content(file.url)
    assert fake_pleo.faults.counts[kind] == 2


async def test_size_mismatch_fails_typed(
    client: PleoExport, fake_pleo: FakePleo, job_id: str
) -> None:
    """A host that keeps serving half the declared bytes fails as ``FileSizeMismatchError``."""
    file = (await _files(client, job_id))[0]
    fake_pleo.faults.add("size_mismatch")
    with pytest.raises(FileSizeMismatchError, match=f"declared {file.size}"):
        await client.files.read(file)


async def test_oversized_file_is_stopped_while_streaming(
    client: PleoExport, fake_pleo: FakePleo, job_id: str, tmp_path: Path
) -> None:
    """A 40 MiB body with no Content-Length stops at the 30 MiB cap, leaving no file behind."""
    file = (await _files(client, job_id))[0]
    fake_pleo.faults.add("oversized")
    with pytest.raises(FileTooLargeError, match="stopped at") as caught:
        await client.files.save(file, tmp_path / "receipt.jpg")
    assert caught.value.failure_type == "receipt_file_size_limit_exceeded"
    assert os.listdir(tmp_path) == []


async def test_store_deduplicates_by_hash(
    pleo: PleoExport, fake_pleo: FakePleo, job_id: str, tmp_path: Path
) -> None:
    """Storing every file twice, the second time from refreshed URLs, keeps one copy each."""
    files = await _files(pleo, job_id)
    first = [await pleo.files.store(file, tmp_path) for file in files]
    again = [await pleo.files.store(file, tmp_path) for file in await _files(pleo, job_id)]
    assert [f.sha256 for f in first] == [f.sha256 for f in again]
    stored = sorted(os.listdir(tmp_path))
    assert stored == sorted({f.path.name for f in first if f.path is not None})
    assert len(stored) == len({f.sha256 for f in first})


async def test_downloads_in_flight_are_bounded(fake_pleo: FakePleo, job_id: str) -> None:
    """With ``file_concurrency=2``, no more than two file requests are ever open at once."""
    inner = fake_pleo.transport()
    open_now = peak = 0

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal open_now, peak
            is_file = request.url.path.startswith("/files/")
            open_now += is_file
            peak = max(peak, open_now)
            try:
                await asyncio.sleep(0.01 * is_file)
                return await inner.handle_async_request(request)
            finally:
                open_now -= is_file

    async with (
        httpx.AsyncClient(transport=Counting()) as http,
        PleoExport(
            api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=http, file_concurrency=2
        ) as pleo,
    ):
        files = await _files(pleo, job_id)
        await asyncio.gather(*(pleo.files.read(file) for file in files))
    assert len(files) > 2
    assert peak == 2


async def test_work_items_carry_their_files(pleo: PleoExport, fake_pleo: FakePleo) -> None:
    """In an export run, ``work.files()`` lists the item's files tied to the job, so a URL that
    expired during the run is refreshed and the download still succeeds."""
    job_id = fake_pleo.add_job(items=8, expires_in=LONG)
    fake_pleo.faults.add("expired_url", times=1)
    seen = 0
    async with pleo.export_run(job_id) as run:
        async for work in run.pending():
            for file in work.files():
                assert str(file.job_id) == job_id
                got = await pleo.files.read(file)
                assert got.content == fake_pleo.file_content(file.url)
                seen += 1
            run.succeeded(work)
    assert seen >= 2
    assert fake_pleo.faults.counts == {"expired_url": 1}


async def test_worker_reports_download_failures_with_their_type(
    pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """A handler that lets ``FileTooLargeError`` escape gets its item failed as
    ``receipt_file_size_limit_exceeded``, not ``unexpected_failure``."""
    job_id = fake_pleo.add_job(items=6)
    fake_pleo.faults.add("oversized")

    async def handler(work: WorkItem[Any, Any]) -> Booked:
        for file in work.files():  # the handler gets the WorkItem, tied to its job
            await pleo.files.read(file)
        return Booked()

    await ExportWorker(pleo, handler, resume_idle=0).run(until_idle=True)
    failed = [
        fake_pleo.item(job_id, entry)
        for entry in fake_pleo.accounting_entry_ids(job_id)
        if fake_pleo.item(job_id, entry)["status"] == "failed"
    ]
    assert failed
    assert {item["failureReasonType"] for item in failed} == {"receipt_file_size_limit_exceeded"}
