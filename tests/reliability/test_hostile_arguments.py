"""Hostile caller input, table-driven over every public method and every argument that reaches
the wire: a string for a number, a bool for an int, a float, a number past the spec's int32 or
int64 range, a bare string for a list, an int for a text. Each is an ``InvalidArgumentError``
naming the argument, raised before any request (the transport counts them).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from pleo_export_raw.api.export_api_v_1 import get_export_jobs_list_v1

from pleo_export import InvalidArgumentError, PleoExport, RetryPolicy
from pleo_export.testing import FakePleo

from ._figures import record
from .conftest import client_on

pytestmark = pytest.mark.timeout(30)

JOB = str(uuid.UUID(int=1))
COMPANY = str(uuid.UUID(int=2))
ENTRY = str(uuid.UUID(int=3))


async def _drain(pager: Any) -> None:
    async for _ in pager:
        pass


Call = Callable[..., Awaitable[Any]]

#: Every list method, called with the paging keyword arguments under test.
LISTS: dict[str, Call] = {
    "jobs.list": lambda p, **kw: _drain(p.jobs.list(**kw)),
    "v2.jobs.list": lambda p, **kw: _drain(p.v2.jobs.list(**kw)),
    "job_items.list": lambda p, **kw: _drain(p.job_items.list(JOB, **kw)),
    "v2.job_items.list": lambda p, **kw: _drain(p.v2.job_items.list(JOB, **kw)),
    "export_items.list": lambda p, **kw: _drain(p.export_items.list(JOB, **kw)),
    "v2.export_items.list": lambda p, **kw: _drain(p.v2.export_items.list(JOB, **kw)),
    "paginate(v1)": lambda p, **kw: _drain(p.paginate(get_export_jobs_list_v1, **kw)),
}
#: Paging argument → values that must be refused (the issue's ``"10"``, ``True``, ``1.5``,
#: ``2**31`` among them).
PAGING: dict[str, list[Any]] = {
    "limit": ["10", True, 1.5, 2**31, 0, -1],
    "offset": ["10", False, 2.0, 2**63, -1],
    "after": [123, b"ABC", "", "A" * 5000, "not a cursor"],
    "before": [7.5, "A" * 5000],
    "max_items": ["5", True, -1, 2.5],
    "prefetch": ["1", True, -1],
}
#: Arguments the paginate() of a generated v1 endpoint does not take as facade arguments.
_PAGINATE_SKIPS = frozenset({"prefetch"})


def _bound(call: Call, argument: str, value: Any) -> Callable[[PleoExport], Awaitable[Any]]:
    """``call`` with one keyword argument fixed."""
    return lambda pleo: call(pleo, **{argument: value})


CASES: list[tuple[str, Call, str]] = [
    (f"{name} {arg}={value!r:.20}", _bound(call, arg, value), arg)
    for name, call in LISTS.items()
    for arg, values in PAGING.items()
    if not (name.startswith("paginate") and arg in _PAGINATE_SKIPS)
    for value in values
]
CASES += [
    ("jobs.list company_id int", lambda p: _drain(p.jobs.list(company_id=42)), "company_id"),
    ("jobs.list statuses str", lambda p: _drain(p.jobs.list(statuses="pending")), "statuses"),
    ("jobs.list statuses int", lambda p: _drain(p.jobs.list(statuses=3)), "statuses"),
    (
        "jobs.list sorting_keys str",
        lambda p: _drain(p.jobs.list(sorting_keys="createdAt", sorting_order="ASC")),
        "sorting_keys",
    ),
    (
        "jobs.list sorting_keys int item",
        lambda p: _drain(p.jobs.list(sorting_keys=[1], sorting_order=["ASC"])),
        "sorting_keys",
    ),
    (
        "job_items.list sorting_order str",
        lambda p: _drain(p.job_items.list(JOB, sorting_keys=["id"], sorting_order="ASC")),
        "sorting_order",
    ),
    ("job_items.list status int", lambda p: _drain(p.job_items.list(JOB, status=1)), "status"),
    ("jobs.get bool", lambda p: p.jobs.get(True), "job_id"),
    (
        "jobs.create ids str",
        lambda p: p.jobs.create(company_id=COMPANY, accounting_entry_ids=ENTRY),
        "accounting_entry_ids",
    ),
    (
        "jobs.create is_interactive int",
        lambda p: p.jobs.create(company_id=COMPANY, accounting_entry_ids=[ENTRY], is_interactive=1),
        "is_interactive",
    ),
    (
        "jobs.create is_interactive str",
        lambda p: p.jobs.create(
            company_id=COMPANY, accounting_entry_ids=[ENTRY], is_interactive="false"
        ),
        "is_interactive",
    ),
    (
        "jobs.create vendor_based_bookkeeping str",
        lambda p: p.v2.jobs.create(
            company_id=COMPANY, accounting_entry_ids=[ENTRY], vendor_based_bookkeeping="yes"
        ),
        "vendor_based_bookkeeping",
    ),
    (
        "jobs.create employee_id int",
        lambda p: p.jobs.create(company_id=COMPANY, accounting_entry_ids=[ENTRY], employee_id=5),
        "employee_id",
    ),
    (
        "post_event failure_reason int",
        lambda p: p.jobs.post_event(JOB, "failed", failure_reason=42),
        "failure_reason",
    ),
    ("post_event event int", lambda p: p.jobs.post_event(JOB, 1), "event"),
    ("jobs.fail reason int", lambda p: p.jobs.fail(JOB, reason=42), "reason"),
    ("jobs.fail reason None", lambda p: p.v2.jobs.fail(JOB, reason=None), "reason"),
    ("job_items.update str", lambda p: p.job_items.update(JOB, "updates"), "updates"),
    ("job_items.update int", lambda p: p.v2.job_items.update(JOB, 5), "updates"),
    (
        "update_all concurrency str",
        lambda p: p.job_items.update_all(JOB, [], concurrency="4"),
        "concurrency",
    ),
    (
        "update_all concurrency bool",
        lambda p: p.job_items.update_all(JOB, [], concurrency=True),
        "concurrency",
    ),
    (
        "get_by_accounting_entry int",
        lambda p: p.job_items.get_by_accounting_entry(company_id=COMPANY, accounting_entry_id=9),
        "accounting_entry_id",
    ),
]


class Recorder:
    """A MockTransport handler that counts requests and answers 500 (none should arrive)."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(500)


REFUSED: list[str] = []


@pytest.mark.parametrize(("name", "call", "argument"), CASES, ids=[c[0] for c in CASES])
async def test_bad_argument_is_refused_before_any_request(
    name: str, call: Call, argument: str
) -> None:
    """The call raises InvalidArgumentError naming the argument and sends nothing; a bare
    TypeError, a request on the wire or another argument's name fails it."""
    recorder = Recorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    async with PleoExport(
        api_key="sk-args-0123456789", base_url="http://127.0.0.1", http_client=http,
        retry=RetryPolicy(max_retries=0),
    ) as pleo:  # fmt: skip
        with pytest.raises(InvalidArgumentError) as caught:
            await call(pleo)
    await http.aclose()
    assert caught.value.argument == argument
    assert recorder.requests == 0
    REFUSED.append(name)
    record(
        "hostile_servers",
        **{
            "limit='10', True, 1.5, 2**31 and other wire arguments": "InvalidArgumentError "
            f"naming the argument, 0 requests sent ({len(REFUSED)} cases)"
        },
    )


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"max_response_bytes": "1"}, "max_response_bytes"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
        ({"total_timeout": True}, "total_timeout"),
        ({"total_timeout": -1.0}, "total_timeout"),
        ({"total_timeout": float("nan")}, "total_timeout"),
        ({"max_empty_pages": 0}, "max_empty_pages"),
        ({"max_empty_pages": 2.5}, "max_empty_pages"),
        ({"prefetch": True}, "prefetch"),
    ],
)
def test_bad_client_limits_are_refused(options: dict[str, Any], argument: str) -> None:
    """The client's own limits are checked when it is made, naming the argument."""
    with pytest.raises(InvalidArgumentError) as caught:
        PleoExport(api_key="sk-args-0123456789", base_url="http://127.0.0.1", **options)
    assert caught.value.argument == argument


async def test_in_range_edges_are_sent() -> None:
    """The largest limit and offset the spec allows reach the fake and page normally, so the
    bounds are exactly the spec's (an off-by-one refusal fails it)."""
    fake = FakePleo(seed=3)
    fake.add_job(items=1)
    async with client_on(fake) as pleo:
        assert len([job async for job in pleo.jobs.list(limit=2**31 - 1)]) == 1
        assert [job async for job in pleo.jobs.list(offset=2**63 - 1)] == []
