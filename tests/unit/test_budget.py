"""The request budget: bucket arithmetic and burst on a manual clock, the pause and decrease on a
429 and the gradual recovery, sharing across a client's views, the budget's wait kept out of the
call's deadline, the argument checks, and a shared budget that falls back when its store fails.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

import pytest
from pytest_httpx import HTTPXMock

from pleo_export import (
    CoordinatorError,
    InvalidArgumentError,
    PleoExport,
    RetryPolicy,
)
from pleo_export._budget import RequestBudget, budget_key
from pleo_export._config import (
    BUDGET_FLEET_RETRY,
    BUDGET_MIN_FACTOR,
    BUDGET_RECOVERY_SECONDS,
    REQUEST_BURST,
)
from pleo_export.coordination import InMemoryCoordinator, TokenGrant

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
API_KEY = "sk-unit-test-0123456789abcdef"
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"


class ManualClock:
    """A monotonic clock that moves only when a waiter sleeps on it (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _budget(rpm: float, clock: ManualClock, **kwargs: object) -> RequestBudget:
    return RequestBudget(rpm, clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def _manual(pleo: PleoExport, clock: ManualClock) -> RequestBudget:
    """Put a client's budget on ``clock``."""
    budget = pleo.request_budget
    assert budget is not None
    budget._clock, budget._sleep, budget._stamp = clock, clock.sleep, clock.now
    return budget


def test_a_full_bucket_lets_a_burst_through_then_one_token_per_interval() -> None:
    """Ten takes pass at once, the eleventh does not; a second later (60/min) exactly one more
    passes, and a long quiet spell refills to the burst, no further. Fails if the burst is not
    capped or tokens accrue at the wrong rate."""
    clock = ManualClock()
    budget = _budget(60, clock)
    assert [budget.take() for _ in range(REQUEST_BURST + 1)] == [True] * REQUEST_BURST + [False]
    clock.now += 0.5
    assert not budget.take()
    clock.now += 0.5
    assert budget.take()
    assert not budget.take()
    clock.now += 3600
    assert sum(budget.take() for _ in range(100)) == REQUEST_BURST


async def test_a_waiter_sleeps_until_its_token_and_spends_it() -> None:
    """Past the burst, ``wait()`` sleeps exactly the time to the next token (1 s at 60/min),
    and waiters are served one per interval in order. Fails if a waiter skips ahead or sleeps
    the wrong time."""
    clock = ManualClock()
    budget = _budget(60, clock)
    for _ in range(REQUEST_BURST):
        assert budget.take()
    served: list[int] = []

    async def one(n: int) -> None:
        await budget.wait()
        served.append(n)

    await asyncio.gather(*(one(n) for n in range(3)))
    assert served == [0, 1, 2]
    assert clock.sleeps == pytest.approx([1.0, 1.0, 1.0])


async def test_take_does_not_jump_the_queue() -> None:
    """While a waiter queues, ``take()`` refuses even once a token is free, so a fast path never
    overtakes a caller that waited; fails if take() ignores the queue."""
    clock = ManualClock()
    gate = asyncio.Event()

    async def held_sleep(seconds: float) -> None:
        clock.now += seconds
        await gate.wait()

    budget = RequestBudget(60, clock=clock, sleep=held_sleep)
    for _ in range(REQUEST_BURST):
        budget.take()
    waiter = asyncio.ensure_future(budget.wait())
    await asyncio.sleep(0)
    clock.now += 5  # tokens are free now, but the waiter came first
    assert not budget.take()
    gate.set()
    await waiter
    assert budget.take()  # the queue is empty again


async def test_a_cancelled_waiter_spends_nothing() -> None:
    """Cancelling a queued waiter leaves its token for the next caller; fails if a cancelled
    wait consumes budget or leaves the queue locked."""
    clock = ManualClock()
    gate = asyncio.Event()

    async def held_sleep(seconds: float) -> None:
        await gate.wait()

    budget = RequestBudget(60, clock=clock, sleep=held_sleep)
    for _ in range(REQUEST_BURST):
        budget.take()
    waiter = asyncio.ensure_future(budget.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    clock.now += 1.0
    assert budget.take()
    assert not budget.take()


async def test_a_429_pauses_everyone_for_its_retry_after_and_halves_the_rate() -> None:
    """After a 429 with Retry-After 5, nothing passes for 5 s; the rate is halved (one token per
    2 s at 60/min). Fails if Retry-After is ignored by other callers or the rate is not
    lowered."""
    clock = ManualClock()
    budget = _budget(60, clock)
    budget.throttled(5.0)  # one token per 2 s from now, recovering
    assert budget.rate_factor() == 0.5
    assert not budget.take()
    clock.now += 4.9
    assert not budget.take()
    clock.now += 0.1
    assert budget.take()  # the bucket kept its tokens through the pause
    for _ in range(REQUEST_BURST):
        budget.take()
    factor = budget.rate_factor()  # recovering since the 429, still near a half
    assert 0.5 < factor < 0.6
    await budget.wait()
    assert clock.sleeps[-1] == pytest.approx(1.0 / factor)


def test_429s_together_lower_the_rate_once_and_never_below_the_floor() -> None:
    """The 429s of calls in flight together halve the rate once; later ones (a second apart)
    halve it again, down to the floor. Fails if every concurrent 429 halves the rate."""
    clock = ManualClock()
    budget = _budget(600, clock)
    for _ in range(8):
        budget.throttled(None)
    assert budget.rate_factor() == 0.5
    for _ in range(10):
        clock.now += 1.0
        budget.throttled(None)
    assert budget.rate_factor() == pytest.approx(BUDGET_MIN_FACTOR, abs=0.02)
    assert budget.throttled_count == 18


def test_a_lowered_rate_recovers_gradually() -> None:
    """A halved rate climbs back linearly: three quarters after half the recovery time, whole
    after all of it, and stays whole. Fails if it never recovers or jumps back at once."""
    clock = ManualClock()
    budget = _budget(600, clock)
    budget.throttled(None)
    clock.now += BUDGET_RECOVERY_SECONDS / 2
    assert budget.rate_factor() == pytest.approx(0.75)
    clock.now += BUDGET_RECOVERY_SECONDS / 2
    assert budget.rate_factor() == 1.0
    clock.now += 100
    assert budget.rate_factor() == 1.0


async def test_views_runs_and_the_client_share_one_budget(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """Ten calls through the client and two ``with_options`` views use the burst; the next, on
    a third view, waits a whole interval. Fails if a view gets a budget of its own."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL, requests_per_minute=60) as pleo:
        clock = ManualClock()
        budget = _manual(pleo, clock)
        views = [pleo, pleo.with_options(timeout=30), pleo.with_options(max_retries=0)]
        for n in range(REQUEST_BURST):
            await views[n % 3].jobs.get(JOB_ID)
        assert clock.sleeps == []
        await pleo.with_options(headers={"X-A": "b"}).jobs.get(JOB_ID)
        assert clock.sleeps == pytest.approx([1.0])
        assert pleo.with_options(timeout=5).request_budget is budget


async def test_a_429_through_the_client_pauses_and_lowers_its_budget(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A 429 with Retry-After reaches the budget: the budget counts it, halves its rate and
    pauses for the (capped) Retry-After, which the retry waits out too. Fails if the seam does
    not tell the budget."""
    httpx_mock.add_response(url=JOB_URL, status_code=429, headers={"Retry-After": "30"})
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    async with PleoExport(
        api_key=API_KEY,
        base_url=BASE_URL,
        requests_per_minute=600,
        retry=RetryPolicy(retry_after_max=2.0),
    ) as pleo:
        clock = ManualClock()
        budget = _manual(pleo, clock)
        await pleo.jobs.get(JOB_ID)
        assert budget.throttled_count == 1
        # The retry itself waited out the pause on the budget (2 s of the manual clock), while
        # the halved rate began to recover.
        assert clock.sleeps == pytest.approx([2.0])
        assert 0.5 < budget.rate_factor() < 0.55


async def test_waiting_for_the_budget_is_not_part_of_the_deadline(
    httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A call that waits 0.1 s for its token still succeeds with a 0.05 s total deadline: the
    deadline starts once the token is granted. Fails (APITimeoutError) if the wait is inside
    the attempt's deadline."""
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID)}, is_reusable=True)
    async with PleoExport(
        api_key=API_KEY,
        base_url=BASE_URL,
        requests_per_minute=600,
        total_timeout=0.05,
        max_retries=0,
    ) as pleo:
        for _ in range(REQUEST_BURST + 1):
            await pleo.jobs.get(JOB_ID)
        budget = pleo.request_budget
        assert budget is not None
        assert budget.waits == 1


@pytest.mark.parametrize("value", [True, False, 0, -1, 0.0, math.nan, math.inf, "500", [500]])
def test_a_bad_requests_per_minute_is_refused(value: object) -> None:
    """Bools, numbers <= 0, NaN, infinity and non-numbers raise InvalidArgumentError naming the
    argument; fails if one is taken (True would be 1 a minute)."""
    with pytest.raises(InvalidArgumentError, match="requests_per_minute"):
        PleoExport(api_key=API_KEY, base_url=BASE_URL, requests_per_minute=value)  # type: ignore[arg-type]


def test_the_default_budget_is_pleos_for_pleos_hosts_only() -> None:
    """Production and staging get 500 a minute; the fake or a proxy none unless given; None
    turns it off anywhere. Fails if the default applies to every host or to none."""
    assert PleoExport(api_key=API_KEY).request_budget is not None
    production = PleoExport(api_key=API_KEY, environment="production").request_budget
    staging = PleoExport(api_key=API_KEY, environment="staging").request_budget
    assert production is not None
    assert staging is not None
    assert production.requests_per_minute == staging.requests_per_minute == 500
    assert production is not staging
    assert PleoExport(api_key=API_KEY, base_url=BASE_URL).request_budget is None
    given = PleoExport(api_key=API_KEY, base_url=BASE_URL, requests_per_minute=120.5)
    assert given.request_budget is not None
    assert given.request_budget.requests_per_minute == 120.5
    assert PleoExport(api_key=API_KEY, requests_per_minute=None).request_budget is None


def test_a_shared_budget_needs_a_rate_and_a_name_for_its_credential() -> None:
    """A ``shared_budget`` without a budget, or with a token callable and no ``budget_key``,
    is refused; with ``budget_key`` it is taken. Fails if a shared budget silently goes unused
    or falls back to an unnamed bucket."""
    coordinator = InMemoryCoordinator()
    with pytest.raises(InvalidArgumentError, match="shared_budget"):
        PleoExport(api_key=API_KEY, base_url=BASE_URL, shared_budget=coordinator)
    with pytest.raises(InvalidArgumentError, match="budget_key"):
        PleoExport(bearer_token=lambda: "t", requests_per_minute=500, shared_budget=coordinator)
    named = PleoExport(
        bearer_token=lambda: "t", shared_budget=coordinator, budget_key="erp-integration"
    )
    assert named.request_budget is not None
    assert named.request_budget.shared


def test_the_budget_key_is_a_hash_of_the_credential_and_host() -> None:
    """The key is 64 hex digits, the same for the same credential and host, different for
    another of either, and never contains the credential. Fails if the key leaks the secret or
    two credentials share a bucket."""
    key = budget_key(BASE_URL, API_KEY)
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert API_KEY not in key
    assert key == budget_key(BASE_URL + "/", API_KEY)
    assert key != budget_key(BASE_URL, API_KEY + "x")
    assert key != budget_key("https://external.pleo.io", API_KEY)


async def test_two_budgets_on_one_coordinator_share_its_bucket() -> None:
    """Two clients' budgets on one coordinator and key: once the first took the shared burst,
    the second must wait for the shared bucket to refill. Fails if each process had a whole
    budget of its own."""
    coordinator = InMemoryCoordinator()
    first = RequestBudget(6000, coordinator=coordinator, key="k")
    second = RequestBudget(6000, coordinator=coordinator, key="k")
    assert not first.take()  # no block taken yet: the first request asks the coordinator
    for _ in range(REQUEST_BURST):
        await first.wait() if not first.take() else None
    assert (await coordinator.take_tokens("k", count=1, rate=100, capacity=10)).wait > 0
    assert not second.take()
    await second.wait()  # a real ~0.1 s, until its block of the shared bucket is due
    assert second.waits == 1


class _FailingCoordinator(InMemoryCoordinator):
    """An in-memory coordinator whose shared budget fails while ``down`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.calls = 0

    async def take_tokens(
        self, key: str, *, count: int, rate: float, capacity: int, pause: float = 0.0
    ) -> TokenGrant:
        self.calls += 1
        if self.down:
            raise CoordinatorError("the database is down")
        return await super().take_tokens(
            key, count=count, rate=rate, capacity=capacity, pause=pause
        )


async def test_a_failing_shared_budget_falls_back_to_the_local_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the store down, requests go on at the local budget (one warning), the store is
    asked again only after the retry interval, and once it answers the shared bucket is used
    again. Fails if the budget stops requests, asks the store on every request, or never
    returns to sharing."""
    clock = ManualClock()
    coordinator = _FailingCoordinator()
    budget = _budget(600, clock, coordinator=coordinator, key="k")
    caplog.set_level(logging.WARNING, logger="pleo_export")
    for _ in range(REQUEST_BURST):
        if not budget.take():
            await budget.wait()
    assert coordinator.calls == 1
    assert [r.message for r in caplog.records if "unavailable" in r.message] != []
    clock.now += BUDGET_FLEET_RETRY
    coordinator.down = False
    assert not budget.take()  # time to ask the store again
    await budget.wait()
    assert coordinator.calls == 2
    assert budget._stash == 9  # a block of 10 taken, one spent
    assert sum("available again" in r.message for r in caplog.records) == 1
