"""The shared request budget on every backend: all-or-none grants from a bucket that starts
full and refills at the caller's rate, a pause every caller sees, keys kept apart, argument
checks, and the upgrade of a store made before the budget existed."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from pathlib import Path

import pytest
from _backends import Backend

from pleo_export import InvalidArgumentError
from pleo_export.coordination import SQLiteCoordinator, TokenGrant
from pleo_export.coordination._sqlite import MIGRATIONS


async def test_a_new_bucket_starts_full_then_grants_blocks_in_turn(backend: Backend) -> None:
    """A new key grants a whole capacity to spend now; the next blocks are granted at once
    too, each spendable one block's refill time after the one before (about count / rate), in
    the order asked. Fails if a bucket starts empty, lets a block be spent early, or makes a
    caller ask again for a block it was promised."""
    coordinator = backend.open()
    first = await coordinator.take_tokens("k", count=10, rate=1.0, capacity=10)
    assert first == TokenGrant(10, 0.0)
    second = await coordinator.take_tokens("k", count=5, rate=1.0, capacity=10)
    third = await coordinator.take_tokens("k", count=5, rate=1.0, capacity=10)
    assert second.granted == third.granted == 5
    assert 4.0 < second.wait <= 5.0
    assert 9.0 < third.wait <= 10.0


async def test_the_bucket_refills_at_the_rate_and_no_further(backend: Backend) -> None:
    """At 1,000 tokens a second an emptied bucket of 10 is whole again after 50 ms, and no more
    than whole: the block after the next must wait again. Fails if it never refills or
    overfills."""
    coordinator = backend.open()
    assert (await coordinator.take_tokens("k", count=10, rate=1000.0, capacity=10)).wait == 0
    await asyncio.sleep(0.05)
    assert (await coordinator.take_tokens("k", count=10, rate=1000.0, capacity=10)).wait == 0
    later = await coordinator.take_tokens("k", count=10, rate=1e-3, capacity=10)
    assert later.wait > 1000  # not 40 stored from the sleep above


async def test_every_coordinator_on_a_store_shares_a_key_and_keys_stay_apart(
    backend: Backend,
) -> None:
    """What one coordinator took, a second on the same store must wait for; another key has
    its own full bucket. Fails if the bucket lives per coordinator or keys collide."""
    one, two = backend.open(), backend.open()
    assert (await one.take_tokens("k", count=10, rate=0.01, capacity=10)).wait == 0
    assert (await two.take_tokens("k", count=1, rate=0.01, capacity=10)).wait > 50
    assert (await two.take_tokens("other", count=10, rate=0.01, capacity=10)).wait == 0


async def test_a_pause_stops_every_taker_until_it_ends(backend: Backend) -> None:
    """A take with ``pause=30`` grants nothing, and makes every later taker (another coordinator
    too) wait out the pause although the bucket is full. Fails if a 429 seen by one process
    does not hold back the others."""
    one, two = backend.open(), backend.open()
    paused = await one.take_tokens("k", count=1, rate=100.0, capacity=10, pause=30.0)
    assert paused.granted == 0
    assert 29.0 < paused.wait <= 30.0
    other = await two.take_tokens("k", count=1, rate=100.0, capacity=10)
    assert other.granted == 0
    assert 28.0 < other.wait <= 30.0


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [
        ("key", {"key": ""}),
        ("key", {"key": "k" * 200}),
        ("count", {"count": 0}),
        ("count", {"count": True}),
        ("count", {"count": 11}),
        ("capacity", {"capacity": 1.5}),
        ("capacity", {"capacity": 0}),
        ("rate", {"rate": 0}),
        ("rate", {"rate": math.nan}),
        ("rate", {"rate": "1"}),
        ("pause", {"pause": -1}),
        ("pause", {"pause": math.inf}),
    ],
)
async def test_bad_arguments_are_refused(
    backend: Backend, argument: str, kwargs: dict[str, object]
) -> None:
    """Each bad argument raises InvalidArgumentError naming it, before the store is touched;
    fails if a backend writes a bucket it cannot use."""
    coordinator = backend.open()
    given: dict[str, object] = {"key": "k", "count": 1, "rate": 1.0, "capacity": 10, **kwargs}
    key = given.pop("key")
    with pytest.raises(InvalidArgumentError, match=argument):
        await coordinator.take_tokens(key, **given)  # type: ignore[arg-type]


async def test_a_store_from_before_the_budget_is_upgraded_in_place(tmp_path: Path) -> None:
    """A SQLite file at schema version 1 (with a journaled lease) gains the budget table on
    first use and keeps its rows. Fails if the migration is not applied to an existing file or
    rebuilds its tables."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE pleo_export_schema (version INTEGER NOT NULL)")
        for statement in MIGRATIONS[0][1]:
            conn.execute(statement)
        conn.execute("INSERT INTO pleo_export_schema (version) VALUES (1)")
        conn.execute(
            "INSERT INTO pleo_export_leases VALUES ('00000000-0000-0000-0000-000000000001',"
            " NULL, NULL, 7, NULL)"
        )
    coordinator = SQLiteCoordinator(path)
    assert (await coordinator.take_tokens("k", count=1, rate=1.0, capacity=10)).granted == 1
    await coordinator.aclose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM pleo_export_schema").fetchall() == [(1,), (2,)]
        assert conn.execute("SELECT token FROM pleo_export_leases").fetchall() == [(7,)]
        assert conn.execute("SELECT count(*) FROM pleo_export_budgets").fetchone() == (1,)
