"""The request budget against the fake, on a real clock: the requests that reach the fake (its
own arrival log, in a sliding window) stay within the budget in-process and over loopback TCP;
the fake's rate limit answers 429 with Retry-After per credential; the client's budget honours
those 429s (stamina's waits are off here, so any wait between attempts is the budget's)."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from pleo_export import PleoExport, RateLimitError, RetryPolicy
from pleo_export._config import REQUEST_BURST
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from .conftest import IN_PROCESS_URL

RPM = 1200  # 20 a second: a short run still holds many intervals
SECONDS = 1.5


def _busiest(times: list[float], window: float) -> int:
    """The most requests that arrived within any ``window`` seconds."""
    return max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))


@asynccontextmanager
async def _client(fake: FakePleo, tcp: bool, **options: object) -> AsyncIterator[PleoExport]:
    if tcp:
        async with (
            fake.serve() as url,
            PleoExport(
                api_key=DEFAULT_API_KEY,
                base_url=url,
                **options,  # type: ignore[arg-type]
            ) as pleo,
        ):
            yield pleo
    else:
        async with (
            httpx.AsyncClient(transport=fake.transport()) as http,
            PleoExport(
                api_key=DEFAULT_API_KEY,
                base_url=IN_PROCESS_URL,
                http_client=http,
                **options,  # type: ignore[arg-type]
            ) as pleo,
        ):
            yield pleo


@pytest.mark.parametrize("tcp", [False, True], ids=["in_process", "tcp"])
async def test_requests_reaching_the_fake_stay_within_the_budget(tcp: bool) -> None:
    """Eight tasks read as fast as they can for 1.5 s on a budget of 20 a second: in any one
    second the fake sees at most the burst plus 20, give or take arrival jitter (and the
    budget is used). Fails if the budget lets requests through faster, or if it starves them."""
    fake = FakePleo(seed=3)
    job = fake.add_job(items=1)
    async with _client(fake, tcp, requests_per_minute=RPM) as pleo:
        deadline = time.monotonic() + SECONDS

        async def reader() -> None:
            while time.monotonic() < deadline:
                await pleo.jobs.get(job)

        await asyncio.gather(*(reader() for _ in range(8)))
    times = fake.rate_limit.request_times()
    per_second = RPM / 60
    # Requests arrive a little after their token (new connections, a busy machine): allow a
    # quarter second of such jitter. Twice the budget would send 50 in a second, none 100s.
    assert _busiest(times, 1.0) <= REQUEST_BURST + per_second * 1.25 + 1
    assert len(times) >= per_second * SECONDS * 0.8


async def test_the_fake_limits_each_credential_and_not_file_downloads() -> None:
    """At 3 a minute the fourth read of one key is a 429 with the seconds until the window
    frees (about 60), another key still reads, a file download is not counted, and lifting the
    limit lets the first key through. Fails if the limit is global, counts files, or sends no
    Retry-After."""
    fake = FakePleo(seed=4, api_keys=["a", "b"], requests_per_minute=3)
    job = fake.add_job(items=1)
    path = f"/v3/export-jobs/{job}"
    async with httpx.AsyncClient(transport=fake.transport(), base_url=IN_PROCESS_URL) as http:
        statuses = [(await http.get(path, auth=("a", ""))).status_code for _ in range(3)]
        url = fake.file_url(IN_PROCESS_URL, size=10)
        assert (await http.get(url)).status_code == 200
        refused = await http.get(path, auth=("a", ""))
        other = await http.get(path, auth=("b", ""))
        fake.rate_limit.requests_per_minute = None
        lifted = await http.get(path, auth=("a", ""))
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 59 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["type"] == "TOO_MANY_REQUESTS"
    assert other.status_code == 200
    assert lifted.status_code == 200
    assert fake.rate_limit.refused == 1
    assert len(fake.rate_limit.request_times()) == 6  # the file download is not among them
    with pytest.raises(ValueError, match="requests_per_minute"):
        FakePleo(requests_per_minute=0)


@pytest.mark.parametrize("tcp", [False, True], ids=["in_process", "tcp"])
async def test_the_budget_honours_the_fakes_429s(tcp: bool) -> None:
    """Over the fake's limit of 5 a minute, the client's budget pauses for each Retry-After
    (capped at 0.2 s here) before the next attempt and halves its rate; once the retries are
    used up the call raises RateLimitError. Fails if attempts follow a 429 without the wait."""
    fake = FakePleo(seed=6, requests_per_minute=5)
    job = fake.add_job(items=1)
    async with _client(
        fake, tcp, requests_per_minute=6000, retry=RetryPolicy(max_retries=3, retry_after_max=0.2)
    ) as pleo:
        for _ in range(5):
            await pleo.jobs.get(job)
        with pytest.raises(RateLimitError):
            await pleo.jobs.get(job)
        budget = pleo.request_budget
        assert budget is not None
        assert budget.throttled_count == 4
        assert budget.rate_factor() < 0.6
    assert fake.rate_limit.refused == 4
    refused = fake.rate_limit.request_times()[5:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(refused)]
    assert len(gaps) == 3
    assert min(gaps) >= 0.19
