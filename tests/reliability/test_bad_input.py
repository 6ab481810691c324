"""Bad caller input is refused before any request, with an error that names the argument.

Each case runs against a transport that records requests; a refused call must leave it empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from pleo_export import (
    InvalidArgumentError,
    InvalidTransitionError,
    PleoError,
    PleoExport,
    RetryPolicy,
)

from ._figures import record

pytestmark = pytest.mark.timeout(30)

JOB = str(uuid.UUID(int=1))
COMPANY = str(uuid.UUID(int=2))
ENTRY = str(uuid.UUID(int=3))


def _ok(entry: str = ENTRY, **fields: Any) -> dict[str, Any]:
    return {"accountingEntryId": entry, "status": "successful", **fields}


async def _drain(pager: Any) -> None:
    async for _ in pager:
        pass


Case = Callable[[PleoExport], Awaitable[Any]]

#: (id, the call, the argument the error must name)
CASES: list[tuple[str, Case, str]] = [
    # ids that are not UUIDs
    ("jobs.get non-uuid", lambda p: p.jobs.get("job-1"), "job_id"),
    ("jobs.get int id", lambda p: p.jobs.get(42), "job_id"),
    ("v2 jobs.get non-uuid", lambda p: p.v2.jobs.get("../../v1/secret"), "job_id"),
    ("jobs.list company", lambda p: _drain(p.jobs.list(company_id="acme")), "company_id"),
    ("job_items.list job", lambda p: _drain(p.job_items.list("nope")), "job_id"),
    ("export_items.list job", lambda p: _drain(p.export_items.list("")), "job_id"),
    ("job_items.update job", lambda p: p.job_items.update("x", [_ok()]), "job_id"),
    (
        "get_by_accounting_entry",
        lambda p: p.job_items.get_by_accounting_entry(company_id=COMPANY, accounting_entry_id="e"),
        "accounting_entry_id",
    ),
    (
        "jobs.create entry ids",
        lambda p: p.jobs.create(company_id=COMPANY, accounting_entry_ids=[ENTRY, "bad"]),
        "accounting_entry_ids",
    ),
    ("post_event job", lambda p: p.jobs.post_event("job", "started"), "job_id"),
    # batches
    (
        "update 101 items",
        lambda p: p.job_items.update(JOB, [_ok(str(uuid.UUID(int=i))) for i in range(101)]),
        "updates",
    ),
    (
        "v2 update 101 items",
        lambda p: p.v2.job_items.update(JOB, [_ok(str(uuid.UUID(int=i))) for i in range(101)]),
        "updates",
    ),
    ("update no items", lambda p: p.job_items.update(JOB, []), "updates"),
    (
        "update item without id",
        lambda p: p.job_items.update(JOB, [{"status": "successful"}]),
        "updates[0]",
    ),
    (
        "update item with non-uuid entry",
        lambda p: p.job_items.update(JOB, [_ok(), _ok("entry-2")]),
        "updates[1]",
    ),
    ("update item not a dict", lambda p: p.job_items.update(JOB, ["successful"]), "updates[0]"),
    (
        "update item misspelt status",
        lambda p: p.job_items.update(JOB, [{"accountingEntryId": ENTRY, "status": "succesful"}]),
        "updates[0]",
    ),
    (
        "update item misspelt field",
        lambda p: p.job_items.update(JOB, [_ok(externalID="GL-1")]),
        "updates[0]",
    ),
    # enum values
    ("jobs.list statuses", lambda p: _drain(p.jobs.list(statuses=["done"])), "statuses"),
    ("job_items.list status", lambda p: _drain(p.job_items.list(JOB, status="ok")), "status"),
    ("post_event unknown event", lambda p: p.jobs.post_event(JOB, "cancelled"), "event"),
    (
        "post_event failure type",
        lambda p: p.jobs.post_event(
            JOB, "failed", failure_reason="x", failure_reason_type="erp_down"
        ),
        "failure_reason_type",
    ),
    # failureReason belongs to a failed event only (spec: CreateExportJobEvent.failureReason)
    (
        "failure_reason on completed",
        lambda p: p.jobs.post_event(JOB, "completed", failure_reason="all fine"),
        "failure_reason",
    ),
    (
        "failure_reason on started",
        lambda p: p.jobs.post_event(JOB, "started", failure_reason="starting"),
        "failure_reason",
    ),
    (
        "failure_reason_type on completed",
        lambda p: p.jobs.post_event(JOB, "completed", failure_reason_type="validation_failure"),
        "failure_reason_type",
    ),
    # paging and sorting
    (
        "sorting lengths differ",
        lambda p: _drain(p.jobs.list(sorting_keys=["createdAt", "id"], sorting_order=["ASC"])),
        "sorting_order",
    ),
    (
        "sorting order without keys",
        lambda p: _drain(p.job_items.list(JOB, sorting_order=["DESC"])),
        "sorting_order",
    ),
    (
        "sorting order unknown",
        lambda p: _drain(p.jobs.list(sorting_keys=["id"], sorting_order=["UP"])),
        "sorting_order",
    ),
    ("offset with after", lambda p: _drain(p.jobs.list(offset=10, after="ABC")), "offset"),
    (
        "offset with before",
        lambda p: _drain(p.export_items.list(JOB, before="ABC", offset=0)),
        "offset",
    ),
    ("after with before", lambda p: _drain(p.job_items.list(JOB, after="A", before="B")), "after"),
    ("negative offset", lambda p: _drain(p.jobs.list(offset=-1)), "offset"),
    ("zero limit", lambda p: _drain(p.jobs.list(limit=0)), "limit"),
    ("cursor not base32", lambda p: _drain(p.jobs.list(after="abc?x=1")), "after"),
]


class NoRequests:
    """A transport handler that records every request it is asked to send."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(500)


REFUSED: set[str] = set()


def _params() -> list[Any]:
    return [pytest.param(case, argument, id=name) for name, case, argument in CASES]


@pytest.mark.parametrize(("case", "argument"), _params())
async def test_bad_input_is_refused_before_sending(
    case: Case, argument: str, request: pytest.FixtureRequest
) -> None:
    """The call raises InvalidArgumentError naming ``argument`` and sends nothing."""
    transport = NoRequests()
    async with PleoExport(
        api_key="k",
        base_url="http://127.0.0.1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(transport)),
        retry=RetryPolicy(max_retries=0),
    ) as pleo:
        with pytest.raises(InvalidArgumentError) as caught:
            await case(pleo)
    assert transport.requests == []
    error = caught.value
    assert isinstance(error, PleoError)
    assert isinstance(error, ValueError)  # callers that catch ValueError keep working
    # The error may name a part of the argument more precisely: updates[0].status.
    assert error.argument == argument or error.argument.startswith((f"{argument}.", f"{argument}["))
    assert str(error).startswith(f"{error.argument}: ")
    REFUSED.add(request.node.name)
    record("bad_input", bad_arguments_refused=len(REFUSED), requests_sent=0)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"api_key": "k", "bearer_token": "t"}, "bearer_token"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": "k", "api_version": "v4"}, "api_version"),
        ({"api_key": "k", "max_retries": 2, "retry": RetryPolicy()}, "max_retries"),
        ({"api_key": "k", "environment": "prod"}, "environment"),
        ({"api_key": "k", "base_url": "ftp://127.0.0.1"}, "base_url"),
        ({"api_key": "k", "base_url": "http://pleo.example"}, "base_url"),
    ],
    ids=["two credentials", "empty key", "api version", "retries twice", "environment",
         "scheme", "plain http"],
)  # fmt: skip
def test_bad_client_options_are_refused(options: dict[str, Any], argument: str) -> None:
    """Contradictory or unsafe client options raise InvalidArgumentError naming the option."""
    with pytest.raises(InvalidArgumentError) as caught:
        PleoExport(**options)
    assert caught.value.argument == argument


def _job_model(status: str) -> Any:
    """A v3 job model in ``status``, as ``jobs.get`` would return it."""
    from pleo_export.models import ExportJobV3
    from pleo_export.testing import FakePleo

    fake = FakePleo(seed=5)
    return ExportJobV3.from_dict(fake.job(fake.add_job(items=1, status=status)))


#: (id, job status, the call on a job model in that status)
TRANSITIONS: list[tuple[str, str, Callable[[PleoExport, Any], Awaitable[Any]]]] = [
    ("start a completed job", "completed", lambda p, j: p.jobs.start(j)),
    ("start an in-progress job", "in_progress", lambda p, j: p.jobs.start(j)),
    ("complete a pending job", "pending", lambda p, j: p.jobs.complete(j)),
    ("complete a failed job", "failed", lambda p, j: p.jobs.complete(j)),
    ("complete_with_errors a completed job", "completed",
     lambda p, j: p.jobs.complete_with_errors(j)),
    ("fail a completed job", "completed", lambda p, j: p.jobs.fail(j, reason="ERP down")),
    ("run a completed job", "completed", lambda p, j: _enter(p.export_run(j))),
    ("run a failed job", "failed", lambda p, j: _enter(p.export_run(j))),
]  # fmt: skip


async def _enter(run: Any) -> None:
    async with run:
        pass


@pytest.mark.parametrize(
    ("status", "call"), [(s, c) for _, s, c in TRANSITIONS], ids=[i for i, *_ in TRANSITIONS]
)
async def test_illegal_transitions_are_refused_before_sending(
    status: str, call: Any, request: pytest.FixtureRequest
) -> None:
    """An event the job's known status forbids raises InvalidTransitionError and sends nothing."""
    transport = NoRequests()
    job = _job_model(status)
    async with PleoExport(
        api_key="k",
        base_url="http://127.0.0.1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(transport)),
        retry=RetryPolicy(max_retries=0),
    ) as pleo:
        with pytest.raises(InvalidTransitionError) as caught:
            await call(pleo, job)
    assert transport.requests == []
    assert isinstance(caught.value, PleoError)
    assert caught.value.status == status
    assert str(job.id) in str(caught.value)
    assert repr(status) in str(caught.value)
    TRANSITIONS_REFUSED.add(request.node.name)
    record("bad_input", illegal_transitions_refused=len(TRANSITIONS_REFUSED), requests_sent=0)


TRANSITIONS_REFUSED: set[str] = set()


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda p, j: p.jobs.fail(j, reason="x", reason_type="erp_on_fire"), "reason_type"),
        (lambda p, j: p.jobs.start("job-7"), "job_id"),
        (lambda p, j: p.jobs.complete(object()), "job"),
        (lambda p, j: _enter(p.export_run("nope")), "job"),
        (lambda p, j: _enter(p.export_run(j, concurrency=0)), "update_concurrency"),
    ],
    ids=["fail reason type", "start non-uuid", "complete not a job", "run non-uuid",
         "run concurrency"],
)  # fmt: skip
async def test_bad_lifecycle_arguments_are_refused(call: Any, argument: str) -> None:
    """Lifecycle helpers check their arguments before any request, naming the bad one."""
    transport = NoRequests()
    async with PleoExport(
        api_key="k",
        base_url="http://127.0.0.1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(transport)),
        retry=RetryPolicy(max_retries=0),
    ) as pleo:
        with pytest.raises(InvalidArgumentError) as caught:
            await call(pleo, _job_model("in_progress"))
    assert transport.requests == []
    assert caught.value.argument == argument
