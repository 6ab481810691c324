"""The fake's file host: signed URLs on the request's own base URL that expire with the fake's
clock, deterministic valid content of the declared size, and faults that touch files only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pleo_export.testing import DEFAULT_API_KEY, FILE_URL_TTL, FakePleo, ManualClock


async def _listed_files(http: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    response = await http.get(
        "/v3/export-items", params={"job_id": job_id, "limit": 50}, auth=(DEFAULT_API_KEY, "")
    )
    return [file for item in response.json()["data"] for file in item["files"] or ()]


@pytest.fixture
async def http(fake_pleo: FakePleo) -> Any:
    """A plain httpx client on the fake in-process, without credentials of its own."""
    async with httpx.AsyncClient(
        transport=fake_pleo.transport(), base_url="http://files.local"
    ) as client:
        yield client


async def test_urls_point_at_the_requests_base_url_and_serve_the_declared_file(
    fake_pleo: FakePleo, http: httpx.AsyncClient
) -> None:
    """Listed URLs live on the base URL the listing came in on and serve exactly ``size`` bytes
    of a valid PDF or JPEG of the declared type, the same bytes ``file_content`` gives."""
    job_id = fake_pleo.add_job(items=20)
    files = await _listed_files(http, job_id)
    assert files
    for file in files:
        assert file["url"].startswith("http://files.local/files/")
        response = await http.get(file["url"])
        assert response.status_code == 200
        assert len(response.content) == file["size"]
        assert response.headers["content-type"] == file["type"]
        magic = b"%PDF-" if file["type"] == "application/pdf" else b"\xff\xd8\xff"
        assert response.content.startswith(magic)
        assert response.content == fake_pleo.file_content(file["url"])


async def test_urls_expire_a_day_after_the_listing_by_the_fake_clock(
    fake_pleo: FakePleo, fake_pleo_clock: ManualClock, http: httpx.AsyncClient
) -> None:
    """A URL works until 24 h after the listing and is refused (403) after; a new listing gives
    a working URL again."""
    job_id = fake_pleo.add_job(items=20, expires_in=3 * FILE_URL_TTL)
    url = (await _listed_files(http, job_id))[0]["url"]
    fake_pleo_clock.advance(seconds=FILE_URL_TTL)
    assert (await http.get(url)).status_code == 200
    fake_pleo_clock.advance(seconds=1)
    refused = await http.get(url)
    assert refused.status_code == 403
    assert b"expired" in refused.content
    fresh = (await _listed_files(http, job_id))[0]["url"]
    assert (await http.get(fresh)).status_code == 200


async def test_tampered_urls_and_credentials_are_refused(
    fake_pleo: FakePleo, http: httpx.AsyncClient
) -> None:
    """A changed size breaks the signature (403); an Authorization header next to the signed
    query gets 400, as object stores answer; both requests are recorded with their headers."""
    job_id = fake_pleo.add_job(items=20)
    url = (await _listed_files(http, job_id))[0]["url"]
    tampered = httpx.URL(url).copy_merge_params({"size": "1"})
    assert (await http.get(tampered)).status_code == 403
    assert (await http.get(url, headers={"Authorization": "Basic abc"})).status_code == 400
    assert fake_pleo.file_requests[-1].headers["authorization"] == "Basic abc"


async def test_file_faults_fire_on_files_only(fake_pleo: FakePleo, http: httpx.AsyncClient) -> None:
    """A routeless ``size_mismatch`` rule leaves API answers alone (and uncounted), and a
    routeless ``extra_fields`` rule leaves file bodies alone."""
    job_id = fake_pleo.add_job(items=20)
    fake_pleo.faults.add("size_mismatch")
    fake_pleo.faults.add("extra_fields")
    file = (await _listed_files(http, job_id))[0]
    assert fake_pleo.faults.counts == {"extra_fields": 1}
    response = await http.get(file["url"])
    assert len(response.content) == file["size"] // 2
    assert fake_pleo.faults.counts == {"extra_fields": 1, "size_mismatch": 1}


async def test_truncated_and_oversized_bodies(fake_pleo: FakePleo, fake_pleo_server: str) -> None:
    """Over TCP a ``truncated`` file stops halfway through its Content-Length, and an
    ``oversized`` one streams 40 MiB with no Content-Length."""
    job_id = fake_pleo.add_job(items=20)
    async with httpx.AsyncClient(base_url=fake_pleo_server) as http:
        file = (await _listed_files(http, job_id))[0]
        fake_pleo.faults.add("truncated", times=1)
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message"):
            await http.get(file["url"])
        fake_pleo.faults.add("oversized", times=1)
        async with http.stream("GET", file["url"]) as response:
            assert "content-length" not in response.headers
            received = sum([len(chunk) async for chunk in response.aiter_raw()])
        assert received == 40 * 1024 * 1024
