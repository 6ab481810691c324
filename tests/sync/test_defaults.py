"""The sync API's signatures are the async API's: the same parameters, the same defaults.

The sync client repeats no default number (each sync module reads them from the signature of
the async piece it wraps, with ``pleo_export.sync._defaults.keyword_defaults``), and this test
compares every pair parameter by parameter, so a default changed, or a parameter added, on one
side only fails here: a sync ``concurrency: int = 4`` left behind when the engine's default
moves, or an async keyword the sync twin lacks (the request budget's ``requests_per_minute``
was one).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator

import pytest

import pleo_export
from pleo_export import sync

#: Public members of the async resources that are not calls with a sync twin: the files
#: resource's own pool and limits, closed with the client.
_ASYNC_ONLY = {"aclose", "concurrency", "deadline", "max_size"}


def _parameters(function: Callable[..., object]) -> dict[str, tuple[str, object]]:
    found = inspect.signature(function).parameters
    return {name: (p.kind.name, p.default) for name, p in found.items() if name != "self"}


@pytest.fixture(scope="module")
def async_pleo() -> Iterator[pleo_export.PleoExport]:
    client = pleo_export.PleoExport(api_key="pk_test")
    yield client
    asyncio.run(client.aclose())


def _pairs(a: pleo_export.PleoExport) -> list[tuple[str, Callable[..., object], object]]:
    pairs: list[tuple[str, Callable[..., object], object]] = [
        ("PleoExport()", sync.PleoExport.__init__, pleo_export.PleoExport.__init__),
        ("with_options", sync.PleoExport.with_options, pleo_export.PleoExport.with_options),
        ("export_run", sync.PleoExport.export_run, pleo_export.PleoExport.export_run),
        ("v3.export_run", sync.V3Resources.export_run, a.v3.export_run),
        ("v2.export_run", sync.V2Resources.export_run, a.v2.export_run),
        ("ExportWorker()", sync.ExportWorker.__init__, pleo_export.ExportWorker.__init__),
    ]
    resources = [
        ("jobs", sync.Jobs, a.v3.jobs),
        ("job_items", sync.JobItemsV3, a.v3.job_items),
        ("export_items", sync.ExportItems, a.v3.export_items),
        ("files", sync.Files, a.files),
    ]
    for name in dir(pleo_export.ExportRun):
        member = getattr(pleo_export.ExportRun, name)
        if not name.startswith("_") and inspect.isfunction(member):
            pairs.append((f"ExportRun.{name}", getattr(sync.ExportRun, name), member))
    for where, sync_class, async_resource in resources:
        for name in dir(async_resource):
            if name.startswith("_") or name in _ASYNC_ONLY:
                continue
            async_member = getattr(async_resource, name)
            if callable(async_member) and not isinstance(async_member, type):
                pairs.append((f"{where}.{name}", getattr(sync_class, name), async_member))
    return pairs


def test_every_sync_signature_matches_its_async_twin(async_pleo: pleo_export.PleoExport) -> None:
    """Same names, kinds and defaults for the client, its views, runs (every method), worker
    and every resource method (a sync twin missing altogether raises AttributeError here)."""
    pairs = _pairs(async_pleo)
    assert len(pairs) > 20
    drift = {}
    for where, sync_function, async_function in pairs:
        ours, theirs = _parameters(sync_function), _parameters(async_function)
        if where == "ExportWorker()":  # the handler differs in kind only: a plain function
            assert set(ours) >= {"pleo", "handler"}
        if ours != theirs:
            drift[where] = {
                name: (ours.get(name), theirs.get(name))
                for name in ours.keys() | theirs.keys()
                if ours.get(name) != theirs.get(name)
            }
    assert drift == {}


def test_the_request_budget_keywords_reach_the_async_client() -> None:
    """``requests_per_minute`` is passed through, not dropped (before, the sync client had no
    such keyword; with it dropped the async default, a budget for Pleo's hosts only, shows)."""
    with sync.PleoExport(
        api_key="pk_test", base_url="http://127.0.0.1", requests_per_minute=120
    ) as pleo:
        budget = pleo._core.client.request_budget
        assert budget is not None
        assert "requests_per_minute=120" in repr(budget)
    with sync.PleoExport(
        api_key="pk_test", base_url="http://127.0.0.1", requests_per_minute=None
    ) as pleo:
        assert pleo._core.client.request_budget is None
