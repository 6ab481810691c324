"""Unit tests of ``pleo.files`` (``_files.py``) against pytest-httpx: no credentials reach the file
host, the size cap holds while streaming, declared sizes are checked, failures are retried or
refreshed as the policy says, and every error is typed and free of the pre-signed query."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from pytest_httpx import HTTPXMock

from pleo_export import (
    DownloadedFile,
    FileDownloadError,
    FileExpiredError,
    FileSizeMismatchError,
    FileTooLargeError,
    ItemFile,
    PleoExport,
    RetryPolicy,
)
from pleo_export._config import DEFAULT_MAX_FILE_SIZE
from pleo_export._files import item_failure_type
from pleo_export.testing import FakePleo

if TYPE_CHECKING:
    from conftest import Payloads


API_KEY = "sk-unit-test-0123456789abcdef"  # as the shared ``pleo`` fixture's
BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
FILE_HOST = "https://receipts.example.com"
SIGNATURE = "X-Amz-Signature=5ec4e7deadbeef"
URL = f"{FILE_HOST}/r/1.pdf?X-Amz-Expires=86400&{SIGNATURE}"
JOB_ID = uuid.UUID("0b6f3c2e-3b8e-4c52-9f7a-2f4f1b9f6a11")
ENTRY_ID = uuid.UUID("5d1e8a4b-3c2f-4e6a-9b7d-1a2b3c4d5e6f")
#: The job's export items, read again for a fresh URL.
LISTING = re.compile(rf"{re.escape(BASE_URL)}/v3/export-items\?.*job_id={JOB_ID}.*")
BODY = b"%PDF-1.4 receipt " + bytes(range(256)) * 8


def _file(url: str = URL, *, size: int = len(BODY), job: bool = True) -> ItemFile:
    return ItemFile(
        url=url,
        media_type="application/pdf",
        size=size,
        index=0,
        accounting_entry_id=ENTRY_ID,
        job_id=JOB_ID if job else None,
    )


class _Chunks(httpx.AsyncByteStream):
    """A body of ``count`` chunks that records how many were pulled."""

    def __init__(self, chunk: bytes, count: int) -> None:
        self.chunk, self.count, self.pulled = chunk, count, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield self.chunk


async def test_download_sends_no_pleo_credentials(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """A file request carries neither the API key nor any Authorization header; it fails if the
    client's auth or default headers reached the file host."""
    httpx_mock.add_response(url=URL, content=BODY, headers={"content-type": "application/pdf"})
    await pleo.files.read(_file())
    (request,) = httpx_mock.get_requests()
    assert "authorization" not in request.headers
    assert API_KEY not in str(request.headers)


async def test_borrowed_pool_drops_its_auth_and_default_headers(httpx_mock: HTTPXMock) -> None:
    """With the caller's own client (auth and an Authorization default header set on it), file
    requests are built apart from it and sent with auth off; fails if either leaks."""
    httpx_mock.add_response(url=URL, content=BODY)
    async with (
        httpx.AsyncClient(
            auth=("user", "secret"), headers={"Authorization": "Bearer client-default"}
        ) as http,
        PleoExport(api_key=API_KEY, base_url=BASE_URL, http_client=http) as pleo,
    ):
        await pleo.files.read(_file())
    (request,) = httpx_mock.get_requests()
    assert "authorization" not in request.headers


async def test_read_returns_content_hash_and_media_type(
    httpx_mock: HTTPXMock, pleo: PleoExport
) -> None:
    """``read`` gives the bytes, their SHA-256 and the sent media type (its parameters cut)."""
    httpx_mock.add_response(
        url=URL, content=BODY, headers={"content-type": "application/pdf; charset=binary"}
    )
    got = await pleo.files.read(_file())
    assert isinstance(got, DownloadedFile)
    assert got.content == BODY
    assert got.sha256 == hashlib.sha256(BODY).hexdigest()
    assert (got.media_type, got.size, got.path) == ("application/pdf", len(BODY), None)


async def test_generic_content_type_falls_back_to_the_declared_one(
    httpx_mock: HTTPXMock, pleo: PleoExport
) -> None:
    """An ``application/octet-stream`` answer keeps the declared type; fails if it replaced it."""
    httpx_mock.add_response(
        url=URL, content=BODY, headers={"content-type": "application/octet-stream"}
    )
    assert (await pleo.files.read(_file())).media_type == "application/pdf"


async def test_declared_size_over_the_cap_is_refused_without_a_request(
    pleo: PleoExport,
) -> None:
    """A declared size over the cap fails as ``receipt_file_size_limit_exceeded`` before any
    request (pytest-httpx would fail the test on an unexpected one)."""
    with pytest.raises(FileTooLargeError) as caught:
        await pleo.files.read(_file(size=DEFAULT_MAX_FILE_SIZE + 1))
    assert caught.value.failure_type == "receipt_file_size_limit_exceeded"


async def test_announced_length_over_the_cap_stops_before_the_body(
    httpx_mock: HTTPXMock,
) -> None:
    """A Content-Length over the cap fails before a chunk is read; fails if the body was pulled."""
    body = _Chunks(b"x" * 1024, 64)
    httpx_mock.add_response(url=URL, stream=body, headers={"content-length": str(64 * 1024)})
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL, max_file_size=10_000) as pleo:
        with pytest.raises(FileTooLargeError, match="announced"):
            await pleo.files.read(_file(size=5_000))
    assert body.pulled == 0


async def test_the_cap_holds_while_streaming(httpx_mock: HTTPXMock) -> None:
    """Without a Content-Length, the download stops at the first chunk past the cap, not after
    the whole body; fails if the cap were checked only at the end."""
    body = _Chunks(b"x" * 4096, 1000)
    httpx_mock.add_response(url=URL, stream=body)
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL, max_file_size=10_000) as pleo:
        with pytest.raises(FileTooLargeError, match="stopped at 12288 bytes"):
            await pleo.files.read(_file(size=5_000))
    assert body.pulled == 3


async def test_size_mismatch_is_retried_then_typed(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """A body shorter than declared is retried with the client's policy (3 retries), then fails
    as ``FileSizeMismatchError`` (``receipt_download_failure``)."""
    httpx_mock.add_response(url=URL, content=BODY[:100], is_reusable=True)
    with pytest.raises(FileSizeMismatchError, match=f"received 100 bytes, declared {len(BODY)}"):
        await pleo.files.read(_file())
    assert len(httpx_mock.get_requests()) == 4


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503),
        httpx.Response(429, headers={"retry-after": "2"}),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("peer closed connection without sending complete body"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["503", "429", "connect", "cut", "timeout"],
)
async def test_transient_failures_are_retried(
    httpx_mock: HTTPXMock, pleo: PleoExport, failure: httpx.Response | Exception
) -> None:
    """5xx, 429, connection errors, cut bodies and timeouts get another attempt, which succeeds;
    fails if any of them ended the download."""
    if isinstance(failure, httpx.Response):
        httpx_mock.add_response(
            url=URL, status_code=failure.status_code, headers=dict(failure.headers)
        )
    else:
        httpx_mock.add_exception(failure, url=URL)
    httpx_mock.add_response(url=URL, content=BODY)
    assert (await pleo.files.read(_file())).content == BODY


async def test_retry_after_sets_the_wait(httpx_mock: HTTPXMock, real_backoff: None) -> None:
    """A 429's Retry-After is the wait before the next attempt: timed with real waits, a
    ``retry-after: 0.2`` against a 5 s backoff retries after 0.2 s and well before 5 s; fails
    if the backoff replaced it (or nothing waited)."""
    httpx_mock.add_response(url=URL, status_code=429, headers={"retry-after": "0.2"})
    httpx_mock.add_response(url=URL, content=BODY)
    policy = RetryPolicy(wait_initial=5.0, wait_max=5.0, wait_jitter=0.0)
    async with PleoExport(api_key="k", base_url="http://127.0.0.1:9", retry=policy) as pleo:
        started = time.perf_counter()
        await pleo.files.read(_file())
        took = time.perf_counter() - started
    assert 0.2 <= took < 2.5, took


async def test_server_errors_fail_typed_after_the_retries(
    httpx_mock: HTTPXMock, pleo: PleoExport
) -> None:
    """A file host that keeps answering 502 fails as ``FileDownloadError`` with the status."""
    httpx_mock.add_response(url=URL, status_code=502, is_reusable=True)
    with pytest.raises(FileDownloadError) as caught:
        await pleo.files.read(_file())
    assert caught.value.status_code == 502
    assert item_failure_type(caught.value) == "receipt_download_failure"


async def test_other_client_errors_are_not_retried(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """A 400 from the file host fails at once; fails if it were retried."""
    httpx_mock.add_response(url=URL, status_code=400)
    with pytest.raises(FileDownloadError, match="answered 400"):
        await pleo.files.read(_file())
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [403, 404, 410])
async def test_refused_url_is_refreshed_once_from_the_export_item(
    httpx_mock: HTTPXMock, pleo: PleoExport, payloads: Payloads, status: int
) -> None:
    """403/404/410 read the job's export items again and download from the item's new URL."""
    fresh = f"{FILE_HOST}/r/1.pdf?X-Amz-Expires=86400&X-Amz-Signature=f4e5h"
    httpx_mock.add_response(url=URL, status_code=status)
    httpx_mock.add_response(url=LISTING, json=payloads.page([_export_item(fresh)]))
    httpx_mock.add_response(url=fresh, content=BODY)
    assert (await pleo.files.read(_file())).content == BODY


async def test_a_second_refusal_ends_as_expired(
    httpx_mock: HTTPXMock, pleo: PleoExport, payloads: Payloads
) -> None:
    """When the fresh URL is refused too, ``FileExpiredError`` is raised (one refresh only)."""
    fresh = f"{FILE_HOST}/r/1.pdf?X-Amz-Signature=again"
    httpx_mock.add_response(url=URL, status_code=403)
    httpx_mock.add_response(url=LISTING, json=payloads.page([_export_item(fresh)]))
    httpx_mock.add_response(url=fresh, status_code=403)
    with pytest.raises(FileExpiredError, match="also for a fresh URL"):
        await pleo.files.read(_file())
    assert len(httpx_mock.get_requests()) == 3


async def test_no_job_means_no_refresh(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """A file not tied to a job cannot be refreshed: a 403 is ``FileExpiredError`` at once."""
    httpx_mock.add_response(url=URL, status_code=403)
    with pytest.raises(FileExpiredError, match="no job"):
        await pleo.files.read(_file(job=False))


async def test_errors_never_show_the_signed_query(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """Error text, traceback included, names the host only; fails if the signature (a
    credential) appears anywhere in it."""
    httpx_mock.add_exception(httpx.ConnectError(f"cannot reach {URL}"), url=URL, is_reusable=True)
    with pytest.raises(FileDownloadError) as caught:
        await pleo.files.read(_file())
    text = str(caught.value)
    assert "receipts.example.com" in text
    assert SIGNATURE not in "".join(traceback.format_exception(caught.value))
    assert "5ec4e7" not in repr(_file())


async def test_save_writes_the_file_and_never_a_partial_one(
    httpx_mock: HTTPXMock, pleo: PleoExport, tmp_path: Path
) -> None:
    """``save`` writes the whole file; a failed download leaves neither the target nor a
    temporary file behind."""
    target = tmp_path / "receipt.pdf"
    httpx_mock.add_response(url=URL, content=BODY)
    saved = await pleo.files.save(_file(), target)
    assert target.read_bytes() == BODY
    assert saved.path == target
    httpx_mock.add_response(url=URL, content=BODY[:10], is_reusable=True)
    with pytest.raises(FileSizeMismatchError):
        await pleo.files.save(_file(), tmp_path / "other.pdf")
    assert os.listdir(tmp_path) == ["receipt.pdf"]


async def test_store_keeps_one_copy_per_content(
    httpx_mock: HTTPXMock, pleo: PleoExport, tmp_path: Path
) -> None:
    """``store`` names files by SHA-256: the same content from two URLs is kept once."""
    other = f"{FILE_HOST}/r/copy.pdf?{SIGNATURE}"
    httpx_mock.add_response(url=URL, content=BODY, headers={"content-type": "application/pdf"})
    httpx_mock.add_response(url=other, content=BODY, headers={"content-type": "application/pdf"})
    first = await pleo.files.store(_file(), tmp_path)
    second = await pleo.files.store(_file(other), tmp_path)
    assert first.path == second.path == tmp_path / f"{hashlib.sha256(BODY).hexdigest()}.pdf"
    assert os.listdir(tmp_path) == [first.path.name]


def test_item_failure_type_maps_only_file_errors() -> None:
    """Download errors map to their receipt failure types; anything else maps to None."""
    too_large = FileTooLargeError("x", host="h", accounting_entry_id=None, index=0)
    assert item_failure_type(too_large) == "receipt_file_size_limit_exceeded"
    expired = FileExpiredError("x", host="h", accounting_entry_id=None, index=0)
    assert item_failure_type(expired) == "receipt_download_failure"
    assert item_failure_type(ValueError("x")) is None


@pytest.mark.parametrize("option", ["max_file_size", "file_concurrency"])
def test_file_options_are_checked(option: str) -> None:
    """A non-positive cap or concurrency is refused when the client is made."""
    with pytest.raises(ValueError, match=option):
        PleoExport(api_key=API_KEY, base_url=BASE_URL, **{option: 0})  # type: ignore[arg-type]


def _export_item(url: str) -> dict[str, object]:
    """A valid ExportItemV3 (the fake's generator) for ``ENTRY_ID``, with one file at ``url``."""
    fake = FakePleo(seed=1)
    job_id = fake.add_job(items=1)
    item = fake.export_item(job_id, fake.accounting_entry_ids(job_id)[0])
    item["accountingEntryId"] = str(ENTRY_ID)
    item["files"] = [{"url": url, "type": "application/pdf", "size": len(BODY)}]
    return item


async def test_a_download_gives_up_at_its_deadline(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """A file host that never answers ends in ``FileDownloadError`` once the deadline (300 s by
    default, here 0.05 s) is spent; fails if the download waited on."""

    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, content=BODY)

    httpx_mock.add_callback(never, url=URL)
    pleo.files.deadline = 0.05
    with pytest.raises(FileDownloadError, match=r"not done after 0\.05 s"):
        await pleo.files.read(_file())


OTHER_HOST = "https://cdn.example.net"


async def test_redirects_carry_no_cookies_nor_pleo_headers(httpx_mock: HTTPXMock) -> None:
    """A caller's pool holding a cookie (here the key itself) for every host: the file request
    and each redirected hop (to a second host, then a relative Location) carry no Cookie, no
    Authorization, no Pleo header. httpx's own redirect following adds the jar to each hop,
    which fails the first assertion."""
    httpx_mock.add_response(url=URL, status_code=302, headers={"location": f"{OTHER_HOST}/a"})
    httpx_mock.add_response(url=f"{OTHER_HOST}/a", status_code=307, headers={"location": "/b"})
    httpx_mock.add_response(url=f"{OTHER_HOST}/b", content=BODY)
    cookies = httpx.Cookies()
    for domain in ("receipts.example.com", "cdn.example.net"):
        cookies.set("session", API_KEY, domain=domain)
    async with (
        httpx.AsyncClient(cookies=cookies, headers={"X-Pleo-Tenant": "t1"}) as http,
        PleoExport(api_key=API_KEY, base_url=BASE_URL, http_client=http) as pleo,
    ):
        content = await pleo.files.read(_file())
    assert content.content == BODY
    hops = httpx_mock.get_requests()
    assert [str(hop.url) for hop in hops] == [URL, f"{OTHER_HOST}/a", f"{OTHER_HOST}/b"]
    for hop in hops:
        assert "cookie" not in hop.headers, hop.url
        assert "authorization" not in hop.headers
        assert "x-pleo-tenant" not in hop.headers
        assert API_KEY not in str(hop.headers)


async def test_redirect_loop_stops_at_the_limit(httpx_mock: HTTPXMock, pleo: PleoExport) -> None:
    """A host that redirects to itself for ever: a FileDownloadError after 10 redirects (11
    requests), not retried; without the limit the download never ends (the timeout fails it)."""
    httpx_mock.add_response(url=URL, status_code=302, headers={"location": URL}, is_reusable=True)
    with pytest.raises(FileDownloadError, match="TooManyRedirects") as caught:
        await pleo.files.read(_file())
    assert caught.value.failure_type == "receipt_download_failure"
    assert len(httpx_mock.get_requests()) == 11


@pytest.mark.parametrize(
    "url", ["http://[::1", "https://receipts.example.com/" + "a" * 200_000, "https://h:99999/x"]
)
async def test_malformed_url_is_a_download_failure(pleo: PleoExport, url: str) -> None:
    """An unparsable URL (bad IPv6 host, 200 kB long, bad port) is a FileDownloadError of type
    receipt_download_failure, with a bounded message; httpx.InvalidURL escaped before."""
    with pytest.raises(FileDownloadError) as caught:
        await pleo.files.read(_file(url))
    assert caught.value.failure_type == "receipt_download_failure"
    assert len(str(caught.value)) < 1000
