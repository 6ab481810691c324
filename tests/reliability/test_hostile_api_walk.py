"""Every public entry point, walked by introspection, answers a wrong-typed argument with an
``InvalidArgumentError`` naming that parameter, and sends nothing.

The walk takes the facade's objects (the client, both versions' resources, files, the export
run, the worker, the coordinators, the webhook endpoint and the testing fake), every public
method of each, and every parameter of each method: the call gets a valid value for every
other parameter (``VALID``) and, for the one under test, an instance of a class no API
accepts. A new method or parameter is walked without a change here; one whose valid value is
unknown fails the walk until ``VALID`` names it. A ``**kw: Unpack[SomeTypedDict]`` parameter
is walked as its keys (``_parameters``), so the paging keywords of every ``list()`` (one
``PagingOptions``) are each walked as they were when written out. ``export_run(None)`` and
``export_run(42)`` raised ``AttributeError`` before.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pleo_export import InvalidArgumentError, PagingOptions, PleoExport
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


def _parameters(method: Callable[..., Any]) -> Iterator[inspect.Parameter]:
    """The method's parameters as a caller names them: ``**kw: Unpack[Options]`` is one
    keyword-only parameter per key of ``Options`` (with its type; a required key has no
    default), any other ``*args`` or ``**kwargs`` none.

    Fails (the walk would lose the paging keywords) if the ``Unpack`` went unseen: see
    ``test_the_walk_reaches_every_paging_keyword``.
    """
    for parameter in inspect.signature(method).parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            hint = typing.get_type_hints(method)[parameter.name]
            if typing.get_origin(hint) is typing.Unpack:
                (options,) = typing.get_args(hint)
                for key, annotation in typing.get_type_hints(options).items():
                    default = parameter.empty if key in options.__required_keys__ else None
                    yield inspect.Parameter(
                        key, parameter.KEYWORD_ONLY, default=default, annotation=annotation
                    )
        elif parameter.kind is not parameter.VAR_POSITIONAL:
            yield parameter


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
        found.extend((name, parameter.name) for parameter in _parameters(method))
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
        for other in _parameters(method):
            if other.name == parameter:
                arguments[other.name] = Wrong()
            elif other.default is other.empty:
                assert other.name in VALID, f"VALID names no value for {name}({other.name}=)"
                arguments[other.name] = VALID[other.name]
        with pytest.raises(InvalidArgumentError) as caught:
            await _call(method, arguments)
    assert caught.value.argument == parameter or parameter in str(caught.value)
    assert sum(fake.request_counts.values()) == 0  # refused before anything was sent


def test_the_walk_reaches_every_paging_keyword() -> None:
    """Each ``list()`` is walked with every ``PagingOptions`` key (would fail if ``_parameters``
    skipped ``**paging`` as it skips a plain ``**kwargs``: the walk then has none of them)."""
    paging = set(typing.get_type_hints(PagingOptions))
    assert len(paging) == 8
    walked: dict[str, set[str]] = {}
    for name, parameter in _cases():
        walked.setdefault(name, set()).add(parameter)
    lists = {name: found for name, found in walked.items() if name.endswith(".list")}
    assert len(lists) == 6  # jobs, job_items, export_items on v3 and v2
    assert all(found >= paging for found in lists.values()), lists
