"""The ``Coordinator`` contract, run against every backend: leases, fencing, journal, purge."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from _backends import Backend

from pleo_export import CoordinatorError, InvalidArgumentError, LeaseLostError, PleoError
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export.coordination import Coordinator, JournalState, Lease, LeaseHeld

#: Short enough to wait out in a test, long enough that a loaded machine does not lapse it early.
SHORT_LEASE = 0.5


def _job(company_id: uuid.UUID | None = None) -> JobRef:
    return JobRef(job_id=uuid.uuid4(), company_id=company_id or uuid.uuid4(), api_version="v3")


def _success(entry_id: uuid.UUID, ref: str = "ERP-1") -> ItemOutcome:
    return ItemOutcome(
        accounting_entry_id=entry_id,
        status=OutcomeStatus.SUCCESSFUL,
        external_id=ref,
        external_url=f"https://erp.example/{ref}",
        exported_at=datetime(2026, 11, 27, 12, 30, tzinfo=UTC),
    )


def _failure(entry_id: uuid.UUID) -> ItemOutcome:
    return ItemOutcome(
        accounting_entry_id=entry_id,
        status=OutcomeStatus.FAILED,
        failure_reason="vendor unknown",
        failure_reason_type="vendor_not_found",
    )


async def _lease(coordinator: Coordinator, job: JobRef, holder: str) -> Lease:
    result = await coordinator.acquire(job, holder)
    assert isinstance(result, Lease), result
    return result


async def test_a_live_lease_excludes_other_holders(backend: Backend) -> None:
    """A second holder is told who holds the job; fails if two holders could lease one job."""
    coordinator = backend.open()
    job = _job()
    lease = await _lease(coordinator, job, "a")
    held = await coordinator.acquire(job, "b")
    assert isinstance(held, LeaseHeld)
    assert (held.reason, held.held_job_id, held.holder) == ("job", job.job_id, "a")
    assert 0 < held.expires_in <= 30.0
    assert (lease.job_id, lease.company_id, lease.holder) == (job.job_id, job.company_id, "a")


async def test_one_job_per_company(backend: Backend) -> None:
    """Another job of a leased job's company is refused until release; fails if Pleo's
    one-job-per-company rule is not kept, or a job of another company is blocked."""
    coordinator = backend.open()
    first = _job()
    lease = await _lease(coordinator, first, "a")
    second = _job(company_id=first.company_id)
    held = await coordinator.acquire(second, "b")
    assert isinstance(held, LeaseHeld)
    assert (held.reason, held.held_job_id, held.holder) == ("company", first.job_id, "a")
    assert isinstance(await coordinator.acquire(second, "a"), LeaseHeld)  # same holder too
    await _lease(coordinator, _job(), "b")
    await coordinator.release(lease)
    await _lease(coordinator, second, "b")


async def test_jobs_without_a_company_lease_only_the_job(backend: Backend) -> None:
    """A job whose company is unknown leases only itself; fails if ``None`` is one company."""
    coordinator = backend.open()
    first = JobRef(uuid.uuid4(), None, "v3")
    second = JobRef(uuid.uuid4(), None, "v3")
    await _lease(coordinator, first, "a")
    await _lease(coordinator, second, "b")
    assert isinstance(await coordinator.acquire(first, "b"), LeaseHeld)


async def test_tokens_increase_across_release_expiry_and_restart(backend: Backend) -> None:
    """Each new lease on a job has a larger token after a release, an expiry and a restart;
    fails if a token is reused or goes back."""
    coordinator = backend.open(lease_seconds=SHORT_LEASE)
    job = _job()
    tokens = [(await _lease(coordinator, job, "a")).token]
    released = await _lease(coordinator, job, "a")  # same holder: taken over, new token
    tokens.append(released.token)
    await coordinator.release(released)
    tokens.append((await _lease(coordinator, job, "b")).token)
    await asyncio.sleep(SHORT_LEASE * 1.5)
    tokens.append((await _lease(coordinator, job, "c")).token)
    if backend.durable:
        await coordinator.aclose()
        coordinator = backend.open(lease_seconds=SHORT_LEASE)
    await asyncio.sleep(SHORT_LEASE * 1.5)
    tokens.append((await _lease(coordinator, job, "d")).token)
    assert tokens == sorted(set(tokens)), tokens


async def test_an_expired_lease_is_taken_over(backend: Backend) -> None:
    """A dead holder's lease lapses after ``lease_seconds``; fails if it blocks the job forever
    or lapses early."""
    coordinator = backend.open(lease_seconds=SHORT_LEASE)
    job = _job()
    await _lease(coordinator, job, "dead")
    assert isinstance(await coordinator.acquire(job, "b"), LeaseHeld)
    await asyncio.sleep(SHORT_LEASE * 1.5)
    lease = await _lease(coordinator, job, "b")
    assert lease.holder == "b"


async def test_renewal_keeps_the_lease(backend: Backend) -> None:
    """A renewed lease outlives its first term, for job and company; fails if renew is a no-op."""
    coordinator = backend.open(lease_seconds=SHORT_LEASE)
    job = _job()
    lease = await _lease(coordinator, job, "a")
    for _ in range(3):
        await asyncio.sleep(SHORT_LEASE / 2)
        await coordinator.renew(lease)
    assert isinstance(await coordinator.acquire(job, "b"), LeaseHeld)
    other = await coordinator.acquire(_job(company_id=job.company_id), "b")
    assert isinstance(other, LeaseHeld)
    assert other.reason == "company"
    await coordinator.record_intents(lease, [uuid.uuid4()])


_WRITES: dict[str, Callable[[Coordinator, Lease], Awaitable[object]]] = {
    "renew": lambda c, lease: c.renew(lease),
    "record_intents": lambda c, lease: c.record_intents(lease, [uuid.uuid4()]),
    "record_outcomes": lambda c, lease: c.record_outcomes(lease, [_success(uuid.uuid4())]),
    "confirm": lambda c, lease: c.confirm(lease, [uuid.uuid4()]),
    "load": lambda c, lease: c.load(lease),
    "write": lambda c, lease: c.write(
        lease, intents=[uuid.uuid4()], outcomes=[_success(uuid.uuid4())], confirmed=[uuid.uuid4()]
    ),
    "purge": lambda c, lease: c.purge(lease),
}


async def test_a_superseded_holder_is_refused_on_every_call(backend: Backend) -> None:
    """After its lease expired and another took the job, each call of the old holder raises
    LeaseLostError and changes nothing; fails if a paused worker could still write."""
    coordinator = backend.open(lease_seconds=SHORT_LEASE)
    jobs = {write: _job() for write in _WRITES}
    entries = {write: uuid.uuid4() for write in _WRITES}
    old = {write: await _lease(coordinator, job, "paused") for write, job in jobs.items()}
    for write, lease in old.items():
        await coordinator.record_intents(lease, [entries[write]])
    await asyncio.sleep(SHORT_LEASE * 1.5)
    for write, call in _WRITES.items():
        new = await _lease(coordinator, jobs[write], "b")
        await coordinator.record_outcomes(new, [_success(entries[write])])
        with pytest.raises(LeaseLostError, match=f"superseded by token {new.token}") as caught:
            await call(coordinator, old[write])
        assert isinstance(caught.value, PleoError)
        assert (caught.value.job_id, caught.value.token) == (
            str(jobs[write].job_id),
            old[write].token,
        )
        await coordinator.release(old[write])  # a no-op: it is not old's lease any more
        await coordinator.renew(new)
        assert await coordinator.load(new) == JournalState(unconfirmed=(_success(entries[write]),))


async def test_an_expired_or_released_lease_is_refused(backend: Backend) -> None:
    """A lease that ran out (nobody took over) or was released cannot write, whatever the call;
    fails if expiry is only enforced when someone else acquires."""
    coordinator = backend.open(lease_seconds=SHORT_LEASE)
    expired = {write: await _lease(coordinator, _job(), "a") for write in _WRITES}
    released = {write: await _lease(coordinator, _job(), "a") for write in _WRITES}
    for lease in released.values():
        await coordinator.release(lease)
    await asyncio.sleep(SHORT_LEASE * 1.5)
    for write, call in _WRITES.items():
        with pytest.raises(LeaseLostError, match="expired"):
            await call(coordinator, expired[write])
        with pytest.raises(LeaseLostError, match="released"):
            await call(coordinator, released[write])


async def test_the_journal_in_batches_gives_the_resume_state(backend: Backend) -> None:
    """Intents, outcomes and confirmations written in batches of 100 come back as in-doubt,
    unconfirmed and confirmed entries, outcomes intact; fails if a state is misfiled."""
    coordinator = backend.open()
    lease = await _lease(coordinator, _job(), "a")
    entries = [uuid.uuid4() for _ in range(250)]
    outcomes = [_success(e, f"ERP-{i}") if i % 3 else _failure(e) for i, e in enumerate(entries)]
    for start in range(0, 250, 100):
        await coordinator.record_intents(lease, entries[start : start + 100])
    for start in range(0, 150, 100):
        await coordinator.record_outcomes(lease, outcomes[start : min(start + 100, 150)])
    await coordinator.confirm(lease, entries[:100])
    state = await coordinator.load(lease)
    assert state.confirmed == frozenset(entries[:100])
    assert sorted(state.unconfirmed, key=str) == sorted(outcomes[100:150], key=str)
    assert state.in_doubt == frozenset(entries[150:])
    assert not state.is_empty


async def test_the_first_outcome_stands_and_confirmed_entries_stay(backend: Backend) -> None:
    """A second outcome for an entry, an intent after an outcome, a repeated confirm and a
    confirm without an outcome change nothing; fails if a journaled status could flip."""
    coordinator = backend.open()
    lease = await _lease(coordinator, _job(), "a")
    booked, confirmed, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await coordinator.record_outcomes(
        lease, [_success(booked), _failure(booked), _success(confirmed)]
    )
    await coordinator.record_outcomes(lease, [_failure(booked)])
    await coordinator.confirm(lease, [confirmed, confirmed, unknown])
    await coordinator.confirm(lease, [confirmed])
    await coordinator.record_intents(lease, [booked, confirmed])
    await coordinator.record_outcomes(lease, [_failure(confirmed)])
    assert await coordinator.load(lease) == JournalState(
        unconfirmed=(_success(booked),), confirmed=frozenset({confirmed})
    )


async def test_one_write_journals_a_pipelined_batch(backend: Backend) -> None:
    """One ``write`` holding the next batch's intents, this batch's outcomes and the previous
    batch's confirmations applies all three, in that order; fails if a part is dropped or
    applied before another (an outcome confirmed in the same call must end confirmed)."""
    coordinator = backend.open()
    lease = await _lease(coordinator, _job(), "a")
    previous, current, following = ([uuid.uuid4() for _ in range(3)] for _ in range(3))
    await coordinator.write(lease, intents=previous + current)
    await coordinator.write(lease, outcomes=[_success(e) for e in previous])
    await coordinator.write(
        lease,
        intents=following,
        outcomes=[_failure(e) for e in current],
        confirmed=[*previous, current[0]],
    )
    state = await coordinator.load(lease)
    assert state.confirmed == frozenset([*previous, current[0]])
    assert sorted(state.unconfirmed, key=str) == sorted(map(_failure, current[1:]), key=str)
    assert state.in_doubt == frozenset(following)


async def test_the_journal_survives_a_restart(durable_backend: Backend) -> None:
    """A new coordinator on the same store, with a new holder after the old lease lapsed,
    reads what the old one journaled; fails if the journal is not durable."""
    coordinator = durable_backend.open(lease_seconds=SHORT_LEASE)
    job = _job()
    lease = await _lease(coordinator, job, "crashed")
    doubt, booked = uuid.uuid4(), uuid.uuid4()
    await coordinator.record_intents(lease, [doubt, booked])
    await coordinator.record_outcomes(lease, [_success(booked)])
    await coordinator.aclose()
    await asyncio.sleep(SHORT_LEASE * 1.5)
    restarted = durable_backend.open(lease_seconds=SHORT_LEASE)
    resumed = await _lease(restarted, job, "restarted")
    assert resumed.token > lease.token
    assert await restarted.load(resumed) == JournalState(
        unconfirmed=(_success(booked),), in_doubt=frozenset({doubt})
    )


async def test_purge_forgets_the_job_but_not_the_token_order(backend: Backend) -> None:
    """Purge deletes the job's journal and lease, frees its company, fences the purging lease,
    and a later lease still gets a larger token; fails if rows or a reusable token remain."""
    coordinator = backend.open()
    job = _job()
    lease = await _lease(coordinator, job, "a")
    await coordinator.record_outcomes(lease, [_success(uuid.uuid4())])
    await coordinator.purge(lease)
    with pytest.raises(LeaseLostError, match="no lease on record"):
        await coordinator.load(lease)
    await coordinator.release(await _lease(coordinator, _job(company_id=job.company_id), "b"))
    again = await _lease(coordinator, job, "c")
    assert again.token > lease.token
    assert (await coordinator.load(again)).is_empty


@pytest.mark.parametrize("ticks", [0, 1, 3])
async def test_a_cancelled_write_is_all_or_nothing(backend: Backend, ticks: int) -> None:
    """A journal write whose caller is cancelled after ``ticks`` loop turns lands whole or not
    at all, and the coordinator keeps working; fails if a cancel can leave half a batch or a
    connection stuck in a transaction."""
    coordinator = backend.open()
    lease = await _lease(coordinator, _job(), "a")
    entries = [uuid.uuid4() for _ in range(100)]
    task = asyncio.create_task(coordinator.record_intents(lease, entries))
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await coordinator.renew(lease)
    assert (await coordinator.load(lease)).in_doubt in (frozenset(), frozenset(entries))


async def test_a_closed_coordinator_refuses_calls(backend: Backend) -> None:
    """Calls after ``aclose()`` raise CoordinatorError; fails if they touch a closed store."""
    coordinator = backend.open()
    await coordinator.aclose()
    with pytest.raises(CoordinatorError, match="closed"):
        await coordinator.acquire(_job(), "a")


@pytest.mark.parametrize("holder", ["", "x" * 201])
async def test_a_bad_holder_is_refused(backend: Backend, holder: str) -> None:
    """An empty or overlong holder name raises InvalidArgumentError before any write."""
    coordinator = backend.open()
    with pytest.raises(PleoError, match="holder"):
        await coordinator.acquire(_job(), holder)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda c, lease: c.write(lease, intents="not-a-list"), "intents"),
        (lambda c, lease: c.write(lease, intents=[str(uuid.uuid4())]), "intents"),
        (lambda c, lease: c.write(lease, confirmed=None), "confirmed"),
        (lambda c, lease: c.write(lease, outcomes=[{"status": "successful"}]), "outcomes"),
        (lambda c, lease: c.load(str(lease.job_id)), "lease"),
        (lambda c, lease: c.acquire(str(lease.job_id), "a"), "job"),
    ],
)
async def test_bad_arguments_raise_a_typed_error_and_write_nothing(
    backend: Backend,
    call: Callable[[Coordinator, Lease], Awaitable[object]],
    argument: str,
) -> None:
    """Ids that are not UUIDs, outcomes that are not ItemOutcome, a job or lease of the wrong
    type raise InvalidArgumentError naming the argument, and the journal stays empty; fails if
    a driver error, a TypeError or a half-written batch results instead."""
    coordinator = backend.open()
    lease = await _lease(coordinator, _job(), "a")
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        await call(coordinator, lease)
    assert (await coordinator.load(lease)).is_empty
