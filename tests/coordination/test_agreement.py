"""The three backends agree, call for call, on seeded random sequences of coordinator calls."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from _backends import Backend

from pleo_export import LeaseLostError
from pleo_export._outcome import ItemOutcome, JobRef, OutcomeStatus
from pleo_export.coordination import Coordinator, Lease, LeaseHeld

CALLS = 300


def _outcome(entry: uuid.UUID, rng: random.Random) -> ItemOutcome:
    if rng.random() < 0.5:
        return ItemOutcome(entry, OutcomeStatus.SUCCESSFUL, external_id=f"ERP-{rng.randrange(99)}")
    return ItemOutcome(entry, OutcomeStatus.FAILED, failure_reason=f"no {rng.randrange(99)}")


async def _play(coordinator: Coordinator, seed: int) -> list[object]:
    """Run the seed's call sequence; return what each call gave, in a comparable form."""
    rng = random.Random(seed)
    companies = [uuid.UUID(int=c + 1) for c in range(2)]
    jobs = [JobRef(uuid.UUID(int=100 + j), companies[j % 2], "v3") for j in range(4)]
    entries = [uuid.UUID(int=1000 + e) for e in range(8)]
    leases: list[Lease] = []
    seen: list[object] = []
    for _ in range(CALLS):
        call = rng.choice(["acquire"] * 3 + ["release", "renew", "write", "write", "load", "purge"])
        if call == "acquire" or not leases:
            result = await coordinator.acquire(rng.choice(jobs), rng.choice("abc"))
            if isinstance(result, Lease):
                leases.append(result)
                seen.append(("lease", result.job_id, result.holder, result.token))
            else:
                assert isinstance(result, LeaseHeld)
                seen.append(("held", result.reason, result.held_job_id, result.holder))
            continue
        lease = rng.choice(leases)
        try:
            if call == "release":
                await coordinator.release(lease)
            elif call == "renew":
                await coordinator.renew(lease)
            elif call == "purge" and rng.random() < 0.3:
                await coordinator.purge(lease)
            elif call == "write":
                await coordinator.write(
                    lease,
                    intents=rng.sample(entries, rng.randrange(4)),
                    outcomes=[_outcome(e, rng) for e in rng.sample(entries, rng.randrange(4))],
                    confirmed=rng.sample(entries, rng.randrange(4)),
                )
            state = await coordinator.load(lease)
            seen.append((call, sorted(state.unconfirmed, key=str), state.in_doubt, state.confirmed))
        except LeaseLostError as lost:
            seen.append((call, "lost", lost.reason))
    return seen


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_backends_agree_on_random_call_sequences(
    seed: int, tmp_path: Path, postgres_dsn: str
) -> None:
    """Memory, SQLite and PostgreSQL give the same leases, refusals, tokens and journal states
    for the same 300 random calls; fails if one backend's SQL departs from the shared policy."""
    backends = [
        Backend("memory", "memory:", durable=False),
        Backend("sqlite", f"sqlite:{tmp_path / 'journal.db'}", durable=True),
        Backend("postgres", f"postgres:t_{uuid.uuid4().hex[:12]}:{postgres_dsn}", durable=True),
    ]
    results = []
    for backend in backends:
        coordinator = backend.open()
        try:
            results.append(await _play(coordinator, seed))
        finally:
            await coordinator.aclose()
    assert results[1] == results[0]
    assert results[2] == results[0]
    kinds = {entry[0] for entry in results[0] if isinstance(entry, tuple)}
    assert {"lease", "held", "release", "renew", "write", "load", "purge"} <= kinds
