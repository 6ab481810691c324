"""The fake over real loopback TCP: the server context managers, faults on sockets, and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from pleo_export.testing import FakePleo

_AUTH = ("pleo-test-key", "")


@pytest.fixture
async def tcp(fake_pleo_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the test's fake served over TCP, with the default API key."""
    async with httpx.AsyncClient(base_url=fake_pleo_server, auth=_AUTH, timeout=5) as http:
        yield http


def test_sync_context_manager_serves_on_loopback() -> None:
    """`with fake.serve()` yields a 127.0.0.1 URL that answers, and stops serving on exit."""
    fake = FakePleo()
    with fake.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/v3/export-jobs", auth=_AUTH).status_code == 200
        assert httpx.get(f"{url}/v3/export-jobs").status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v3/export-jobs", auth=_AUTH)


async def test_async_context_manager_runs_a_whole_export(fake_pleo: FakePleo) -> None:
    """`async with fake.serve()` serves a full export over TCP: start, read, report, complete."""
    job_id = fake_pleo.add_job(items=5)
    async with fake_pleo.serve() as url, httpx.AsyncClient(base_url=url, auth=_AUTH) as http:
        assert (
            await http.post("/v3/export-job-events", json={"jobId": job_id, "event": "started"})
        ).status_code == 202
        items = (await http.get(f"/v3/export-jobs/{job_id}/items")).json()["data"]
        data = (await http.get("/v3/export-items", params={"job_id": job_id})).json()["data"]
        assert [i["accountingEntryId"] for i in items] == [d["accountingEntryId"] for d in data]
        updates = [
            {"accountingEntryId": i["accountingEntryId"], "status": "successful"} for i in items
        ]
        assert (await http.put(f"/v3/export-jobs/{job_id}/items", json=updates)).status_code == 200
        done = await http.post(
            "/v3/export-job-events", json={"jobId": job_id, "event": "completed"}
        )
        assert done.status_code == 202
    assert fake_pleo.item_status_counts(job_id) == {"successful": 5}
    assert set(fake_pleo.item_update_counts(job_id).values()) == {1}


def test_explicit_port(fake_pleo: FakePleo) -> None:
    """serve(port=N) binds that port on 127.0.0.1."""
    with fake_pleo.serve() as url:
        port = int(url.rsplit(":", 1)[1])
    with fake_pleo.serve(port=port) as again:
        assert again == f"http://127.0.0.1:{port}"


async def test_drop_closes_the_socket(tcp: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """Over TCP a drop fault closes the socket without a response."""
    fake_pleo.faults.add("drop", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await tcp.get("/v3/export-jobs")
    assert (await tcp.get("/v3/export-jobs")).status_code == 200


async def test_lost_response_over_tcp_applies_the_request(
    tcp: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Over TCP a lost response still changes the state before the socket closes."""
    job_id = fake_pleo.add_job(items=1)
    fake_pleo.faults.add("lost_response", route="createExportJobEventV2", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await tcp.post("/v2/export-job-events", json={"jobId": job_id, "event": "started"})
    assert fake_pleo.job(job_id)["status"] == "in_progress"


async def test_delay_over_tcp_times_the_client_out(
    tcp: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Over TCP a delay beyond the client's timeout raises ReadTimeout; later requests work."""
    fake_pleo.faults.add("delay", seconds=30, times=1)
    with pytest.raises(httpx.ReadTimeout):
        await tcp.get("/v3/export-jobs", timeout=0.2)
    assert (await tcp.get("/v3/export-jobs")).status_code == 200


async def test_html_error_page_over_tcp(tcp: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """An HTML 502 fault arrives over TCP as text/html."""
    fake_pleo.faults.add("status", status=502, html=True, times=1)
    response = await tcp.get("/v3/export-jobs")
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")


async def test_stopping_ends_a_pending_delay(fake_pleo: FakePleo) -> None:
    """Stopping the server does not wait for a long fault delay to finish."""
    fake_pleo.faults.add("delay", seconds=60)
    server = fake_pleo.serve()
    url = server.start()
    async with httpx.AsyncClient(base_url=url, auth=_AUTH) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/v3/export-jobs", timeout=0.2)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 3


def test_command_line_serves_a_seeded_fake() -> None:
    """`python -m pleo_export.testing` prints its URL and key and serves the seeded jobs."""
    command = [
        sys.executable,
        "-m",
        "pleo_export.testing",
        "--port",
        "0",
        "--jobs",
        "2",
        "--items",
        "3",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            key_line = process.stdout.readline()
            url = first.rsplit(" ", 1)[1].strip()
            assert url.startswith("http://127.0.0.1:")
            assert "pleo-test-key" in key_line
            jobs = httpx.get(
                f"{url}/v3/export-jobs", auth=_AUTH, params={"statuses": "pending"}
            ).json()
            assert [job["numberOfItems"] for job in jobs["data"]] == [3, 3]
        finally:
            os.kill(process.pid, signal.SIGINT)
            process.wait(timeout=10)
