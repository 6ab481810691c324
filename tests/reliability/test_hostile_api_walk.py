"""Every public entry point, walked by introspection, answers a wrong-typed argument with an
``InvalidArgumentError`` naming that parameter, and sends nothing.

The walk takes the facade's objects (the client, both versions' resources, files, the export
run, the worker, the coordinators, the webhook endpoint and the testing fake), every public
method of each, and every parameter of each method: the call gets a valid value for every
other parameter (``VALID``) and, for the one under test, an instance of a class no API
accepts. A new method or parameter is walked without a change here; one whose valid value is
unknown fails the walk until ``VALID`` names it. ``export_run(None)`` and ``export_run(42)``
raised ``AttributeError`` before.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pleo_export import InvalidArgumentError, PleoExport
from pleo_export.testing import FakePleo

from .conftest import client_on

pytestmark = pytest.mark.timeout(60)

JOB = str(uuid.UUID(int=1))
ENTRY = str(uuid.UUID(int=3))


class Wrong:
    """A value of a type no parameter of the API takes."""

    def __repr__(self) -> str:
        return "<Wrong>"


#: A valid value for each parameter name the walk meets (the other arguments of a call).
VALID: dict[str, Any] = {
    "job": JOB,
    "job_id": JOB,
    "company_id": str(uuid.UUID(int=2)),
    "accounting_entry_id": ENTRY,
    "updates": [{"accountingEntryId": ENTRY, "status": "successful", "externalId": "JE-1"}],
    "accounting_entry_ids": [ENTRY],
    "event": "started",
    "reason": "r",
    "reason_type": None,
    "status": None,
    "statuses": None,
    "concurrency": 1,
    "flush_interval": 1.0,
    "coordinator": None,
}

#: Parameters that take any object on purpose (documented so), and methods not walked.
SKIP = {"paginate", "with_options", "aclose", "raw"}


def _methods(name: str, owner: object) -> Iterator[tuple[str, Callable[..., Any]]]:
    for attr in dir(type(owner)):
        if attr.startswith("_") or attr in SKIP:
            continue
        if isinstance(getattr(type(owner), attr), property):
            continue
        value = getattr(owner, attr)
        if callable(value) and not inspect.isclass(value):
            yield f"{name}.{attr}", value


def _targets(pleo: PleoExport) -> Iterator[tuple[str, Callable[..., Any]]]:
    yield "pleo.export_run", pleo.export_run
    for version in ("v3", "v2"):
        api = getattr(pleo, version)
        yield f"{version}.export_run", api.export_run
        for resource in ("jobs", "job_items", "export_items"):
            yield from _methods(f"{version}.{resource}", getattr(api, resource))


def _cases() -> list[tuple[str, str]]:
    fake = FakePleo()
    pleo = client_on(fake)
    found = []
    for name, method in _targets(pleo):
        for parameter in inspect.signature(method).parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            found.append((name, parameter.name))
    return found


def _resolve(pleo: PleoExport, name: str) -> Callable[..., Any]:
    return dict(_targets(pleo))[name]


async def _call(method: Callable[..., Any], arguments: dict[str, Any]) -> None:
    result = method(**arguments)
    if inspect.isawaitable(result):
        await result
    elif hasattr(result, "__aiter__"):
        async for _ in result:
            break
    elif hasattr(result, "__aenter__"):
        async with result:
            pass


@pytest.mark.parametrize(("name", "parameter"), _cases())
async def test_wrong_type_is_an_invalid_argument_naming_it(name: str, parameter: str) -> None:
    fake = FakePleo()
    async with client_on(fake) as pleo:
        method = _resolve(pleo, name)
        arguments = {}
        for other in inspect.signature(method).parameters.values():
            if other.kind in (other.VAR_POSITIONAL, other.VAR_KEYWORD):
                continue
            if other.name == parameter:
                arguments[other.name] = Wrong()
            elif other.default is other.empty:
                assert other.name in VALID, f"VALID names no value for {name}({other.name}=)"
                arguments[other.name] = VALID[other.name]
        with pytest.raises(InvalidArgumentError) as caught:
            await _call(method, arguments)
    assert caught.value.argument == parameter or parameter in str(caught.value)
    assert sum(fake.request_counts.values()) == 0  # refused before anything was sent
