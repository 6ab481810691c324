"""Caller input is checked before any request: ids, enum values (with the explicit escape hatch
for new ones), batch sizes, paging and sorting arguments."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pleo_export_raw.models import (
    ExportJobItemStatus,
    ExportJobStatus,
    PageOrder,
    UpdateExportJobItemV3,
)
from pytest_httpx import HTTPXMock

from pleo_export import InvalidArgumentError, PleoExport
from pleo_export._validation import (
    check_batch,
    check_enum,
    check_paging,
    check_sorting,
    check_uuid,
)

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
ENTRY = "0b8f7a4e-2d55-4f0e-a7f4-6f25d1c2b3a4"


def _update(**fields: Any) -> dict[str, Any]:
    return {"accountingEntryId": ENTRY, "status": "successful", **fields}


Call = Callable[[PleoExport], Awaitable[Any]]


async def _first_page(pager: Any) -> Any:
    return await pager.first_page()


BAD_CALLS: list[Any] = [
    pytest.param(lambda p: p.jobs.get("not-a-uuid"), "job_id", id="jobs.get-id"),
    pytest.param(lambda p: p.jobs.get(42), "job_id", id="jobs.get-int"),
    pytest.param(lambda p: p.v2.jobs.get("nope"), "job_id", id="v2.jobs.get-id"),
    pytest.param(
        lambda p: _first_page(p.jobs.list(company_id="acme")), "company_id", id="list-company"
    ),
    pytest.param(
        lambda p: _first_page(p.jobs.list(statuses=["archived"])), "statuses", id="list-status"
    ),
    pytest.param(
        lambda p: _first_page(p.jobs.list(statuses=["PENDING"])), "statuses", id="status-case"
    ),
    pytest.param(
        lambda p: _first_page(p.jobs.list(after="ABC", offset=10)), "offset", id="offset+after"
    ),
    pytest.param(
        lambda p: _first_page(p.jobs.list(after="ABC", before="DEF")), "after", id="after+before"
    ),
    pytest.param(lambda p: _first_page(p.jobs.list(offset=-1)), "offset", id="negative-offset"),
    pytest.param(lambda p: _first_page(p.jobs.list(limit=0)), "limit", id="zero-limit"),
    pytest.param(lambda p: _first_page(p.jobs.list(after="abc")), "after", id="cursor-case"),
    pytest.param(lambda p: _first_page(p.jobs.list(after="")), "after", id="empty-cursor"),
    pytest.param(lambda p: _first_page(p.jobs.list(max_items=-1)), "max_items", id="max-items"),
    pytest.param(lambda p: _first_page(p.jobs.list(prefetch=-1)), "prefetch", id="prefetch"),
    pytest.param(
        lambda p: _first_page(p.jobs.list(sorting_keys=["createdAt"], sorting_order=[])),
        "sorting_order",
        id="sorting-lengths",
    ),
    pytest.param(
        lambda p: _first_page(p.jobs.list(sorting_order=["ASC"])),
        "sorting_order",
        id="order-without-keys",
    ),
    pytest.param(
        lambda p: _first_page(p.jobs.list(sorting_keys=["id"], sorting_order=["UP"])),
        "sorting_order",
        id="order-value",
    ),
    pytest.param(lambda p: _first_page(p.job_items.list("x")), "job_id", id="job_items.list-id"),
    pytest.param(
        lambda p: _first_page(p.job_items.list(JOB_ID, status="done")),
        "status",
        id="job_items.list-status",
    ),
    pytest.param(
        lambda p: _first_page(p.export_items.list("x")), "job_id", id="export_items.list-id"
    ),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [_update()] * 101), "updates", id="101-updates"
    ),
    pytest.param(lambda p: p.job_items.update(JOB_ID, []), "updates", id="no-updates"),
    pytest.param(lambda p: p.job_items.update("x", [_update()]), "job_id", id="update-job-id"),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [_update(status="succesful")]),
        "updates[0].status",
        id="update-status-typo",
    ),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [_update(), _update(failureReasonType="oops")]),
        "updates[1].failureReasonType",
        id="update-reason-typo",
    ),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [_update(externalID="INV-1")]),
        "updates[0]",
        id="update-unknown-field",
    ),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [{"status": "successful"}]),
        "updates[0]",
        id="update-missing-entry",
    ),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [_update(accountingEntryId=7)]),
        "updates[0]",
        id="update-int-entry",
    ),
    pytest.param(
        lambda p: p.job_items.update(JOB_ID, [_update(exportedAt="yesterday")]),
        "updates[0]",
        id="update-bad-date",
    ),
    pytest.param(lambda p: p.job_items.update(JOB_ID, ["done"]), "updates[0]", id="update-str"),
    pytest.param(
        lambda p: p.job_items.get_by_accounting_entry(company_id="c", accounting_entry_id=ENTRY),
        "company_id",
        id="by-entry-company",
    ),
    pytest.param(lambda p: p.jobs.post_event(JOB_ID, "cancel"), "event", id="event"),
    pytest.param(lambda p: p.jobs.post_event("x", "started"), "job_id", id="event-job-id"),
    pytest.param(
        lambda p: p.jobs.post_event(JOB_ID, "failed", failure_reason_type="exploded"),
        "failure_reason_type",
        id="event-reason",
    ),
    pytest.param(
        lambda p: p.jobs.create(company_id=uuid.uuid4(), accounting_entry_ids=[]),
        "accounting_entry_ids",
        id="create-empty",
    ),
    pytest.param(
        lambda p: p.jobs.create(company_id=uuid.uuid4(), accounting_entry_ids=["x"]),
        "accounting_entry_ids",
        id="create-bad-entry",
    ),
]


@pytest.mark.parametrize(("call", "argument"), BAD_CALLS)
async def test_bad_input_is_refused_before_any_request(
    httpx_mock: HTTPXMock, call: Call, argument: str
) -> None:
    """Each bad argument raises InvalidArgumentError naming it, and nothing is sent."""
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(InvalidArgumentError) as caught:
            await call(pleo)
    assert caught.value.argument == argument
    assert httpx_mock.get_requests() == []


def test_list_arguments_are_checked_when_list_is_called() -> None:
    """list() raises at once, not later when the iteration starts."""
    pleo = PleoExport(api_key="k", base_url=BASE_URL)
    with pytest.raises(InvalidArgumentError):
        pleo.jobs.list(after="ABC", offset=1)


async def test_new_enum_value_passes_when_given_as_the_enum(httpx_mock: HTTPXMock) -> None:
    """ExportJobStatus("archived") is sent as is; the plain string stays refused."""
    httpx_mock.add_response(
        json={
            "data": [],
            "pagination": {
                "hasNextPage": False,
                "hasPreviousPage": False,
                "currentRequestPagination": {"parameters": {}},
            },
        }
    )
    archived = ExportJobStatus("archived")
    assert not archived.is_known
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.jobs.list(statuses=[archived, "pending"]).first_page()
        with pytest.raises(InvalidArgumentError):
            pleo.jobs.list(statuses=["archived"])  # still refused after the enum was built
    (request,) = httpx_mock.get_requests()
    assert request.url.params.get_list("statuses") == ["archived", "pending"]


async def test_update_models_and_explicit_new_enum_values_are_accepted(
    httpx_mock: HTTPXMock,
) -> None:
    """Generated update models, and dicts using ExportJobItemStatus("new"), pass unchecked."""
    httpx_mock.add_response(method="PUT", json={"data": [], "errors": []})
    model = UpdateExportJobItemV3(
        accounting_entry_id=uuid.UUID(ENTRY), status=ExportJobItemStatus.SUCCESSFUL
    )
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        await pleo.job_items.update(
            JOB_ID, [model, _update(status=ExportJobItemStatus("on_hold"), externalId="INV-9")]
        )
    body = httpx_mock.get_requests()[0].read()
    assert b'"on_hold"' in body
    assert b'"INV-9"' in body


def test_check_uuid_normalises_and_refuses() -> None:
    """check_uuid accepts UUIDs and UUID strings; anything else names the argument."""
    value = uuid.uuid4()
    assert check_uuid(value, "x") is value
    assert check_uuid(str(value).upper(), "x") == value
    for bad in ("", "123", None, 123, b"x" * 16):
        with pytest.raises(InvalidArgumentError, match=r"^x: expected a UUID"):
            check_uuid(bad, "x")


def test_check_enum_known_values_and_escape_hatch() -> None:
    """Plain strings must be listed values; an enum instance (even unknown) is deliberate."""
    assert check_enum("pending", ExportJobStatus, "s") is ExportJobStatus.PENDING
    assert check_enum(ExportJobStatus.FAILED, ExportJobStatus, "s") is ExportJobStatus.FAILED
    assert check_enum(ExportJobStatus("paused"), ExportJobStatus, "s") == "paused"
    with pytest.raises(InvalidArgumentError, match=r"pass ExportJobStatus\('paused'\)"):
        check_enum("paused", ExportJobStatus, "s")
    with pytest.raises(InvalidArgumentError):
        check_enum(3, PageOrder, "order")


@pytest.mark.parametrize(("size", "ok"), [(0, False), (1, True), (100, True), (101, False)])
def test_check_batch_limits(size: int, ok: bool) -> None:
    """A batch holds 1 to 100 updates."""
    if ok:
        check_batch(size)
    else:
        with pytest.raises(InvalidArgumentError, match="updates"):
            check_batch(size)


def test_check_sorting_pairs_keys_and_orders() -> None:
    """Keys alone are fine; orders need keys of the same length."""
    check_sorting(None, None)
    check_sorting(["id"], None)
    check_sorting(["id", "createdAt"], ["ASC", "DESC"])
    with pytest.raises(InvalidArgumentError, match="1 entries but sorting_keys has 2"):
        check_sorting(["id", "createdAt"], ["ASC"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"after": "GEZDGNBVGY======"},
        {"before": "ABC~2"},
        {"offset": 0},
        {"limit": 1},
        {},
    ],
)
def test_check_paging_accepts_valid_arguments(kwargs: dict[str, Any]) -> None:
    """Base32 cursors (with = and ~), a zero offset and a positive limit are accepted."""
    check_paging(**{"before": None, "after": None, "offset": None, "limit": None, **kwargs})
