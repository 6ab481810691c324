"""The fake's cursor pagination: cursors, limits, offsets, backward paging, filters and sorting."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pleo_export.testing import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, FakePleo
from pleo_export.testing._paging import ComplementView, PageRequest, page

_CURSOR = re.compile(r"^[A-Z2-7=~]+$")


async def _items(client: httpx.AsyncClient, job_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/v3/export-jobs/{job_id}/items", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["accountingEntryId"] for item in body["data"]]


async def test_forward_paging_visits_every_item_once(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Following endCursor with `after` yields every item once, in order, with correct flags."""
    job_id = fake_pleo.add_job(items=25)
    seen: list[str] = []
    body = await _items(client, job_id, limit=10)
    flags = [(body["pagination"]["hasPreviousPage"], body["pagination"]["hasNextPage"])]
    seen += _ids(body)
    while body["pagination"]["hasNextPage"]:
        body = await _items(client, job_id, limit=10, after=body["pagination"]["endCursor"])
        flags.append((body["pagination"]["hasPreviousPage"], body["pagination"]["hasNextPage"]))
        seen += _ids(body)
    assert seen == fake_pleo.accounting_entry_ids(job_id)
    assert flags == [(False, True), (True, True), (True, False)]
    assert body["pagination"]["total"] == 25


async def test_cursors_match_pleos_pattern(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """Start and end cursors are opaque strings matching ^[A-Z2-7=~]+$."""
    job_id = fake_pleo.add_job(items=3)
    for path, params in [
        ("/v3/export-jobs", {}),
        (f"/v3/export-jobs/{job_id}/items", {}),
        ("/v2/export-items", {"job_id": job_id}),
    ]:
        info = (await client.get(path, params=params)).json()["pagination"]
        assert _CURSOR.match(info["startCursor"])
        assert _CURSOR.match(info["endCursor"])


async def test_before_pages_backward(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """`before` returns the page that ends just before the cursor."""
    job_id = fake_pleo.add_job(items=25)
    ids = fake_pleo.accounting_entry_ids(job_id)
    last = await _items(client, job_id, offset=20, limit=10)
    assert _ids(last) == ids[20:]
    previous = await _items(client, job_id, limit=10, before=last["pagination"]["startCursor"])
    assert _ids(previous) == ids[10:20]
    assert (previous["pagination"]["hasPreviousPage"], previous["pagination"]["hasNextPage"]) == (
        True,
        True,
    )
    first = await _items(client, job_id, limit=10, before=previous["pagination"]["startCursor"])
    assert _ids(first) == ids[:10]
    assert first["pagination"]["hasPreviousPage"] is False


async def test_offset_and_limit(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """`offset` skips items; the default limit applies when none is given; past the end is empty."""
    job_id = fake_pleo.add_job(items=45)
    ids = fake_pleo.accounting_entry_ids(job_id)
    body = await _items(client, job_id, offset=5)
    assert _ids(body) == ids[5 : 5 + DEFAULT_PAGE_LIMIT]
    assert body["pagination"]["currentRequestPagination"]["limit"] == DEFAULT_PAGE_LIMIT
    assert body["pagination"]["currentRequestPagination"]["offset"] == 5
    empty = await _items(client, job_id, offset=100)
    assert empty["data"] == []
    assert "endCursor" not in empty["pagination"]
    assert empty["pagination"]["hasPreviousPage"] is True


async def test_limit_is_clamped_to_the_maximum(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A limit above the maximum is served as the maximum, and echoed as such."""
    job_id = fake_pleo.add_job(items=MAX_PAGE_LIMIT + 5)
    body = await _items(client, job_id, limit=MAX_PAGE_LIMIT * 10)
    assert len(body["data"]) == MAX_PAGE_LIMIT
    assert body["pagination"]["currentRequestPagination"]["limit"] == MAX_PAGE_LIMIT


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 1, "after": "JE5DA==="},
        {"before": "JE5DA===", "after": "JE5DA==="},
        {"offset": -1},
        {"limit": "many"},
        {"after": "not-a-cursor"},
        {"after": "AAAA"},
        {"after": "JI5DA==="},
        {"sorting_keys": "accountingEntryId"},
        {"sorting_keys": "amount", "sorting_order": "ASC"},
        {"sorting_keys": "accountingEntryId", "sorting_order": "SIDEWAYS"},
        {"status": "on_hold"},
        {"offset": 2**70},
        {"offset": 2**63},
        {"limit": 2**31},
    ],
    ids=[
        "offset-and-after",
        "before-and-after",
        "negative-offset",
        "non-numeric-limit",
        "malformed-cursor",
        "garbage-cursor",
        "cursor-of-another-list",
        "keys-without-orders",
        "unknown-sort-key",
        "unknown-order",
        "unknown-status",
        "offset-past-int64",
        "offset-just-past-int64",
        "limit-past-int32",
    ],
)
async def test_bad_paging_parameters_are_400(
    client: httpx.AsyncClient, fake_pleo: FakePleo, params: dict[str, Any]
) -> None:
    """Mixed cursors and offsets, malformed cursors or numbers and bad sorting answer 400."""
    job_id = fake_pleo.add_job(items=3)
    response = await client.get(f"/v3/export-jobs/{job_id}/items", params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"type", "message"}


@pytest.mark.parametrize(
    "path", ["/v3/export-jobs", "/v2/export-jobs", "/v3/export-items", "/v2/export-items"]
)
async def test_out_of_range_paging_numbers_are_400_on_every_list(
    client: httpx.AsyncClient, fake_pleo: FakePleo, path: str
) -> None:
    """An offset past int64 answers Pleo's 400 ExceptionInfo on every list, not a 500 from the
    fake's JSON encoder; a crash or a clamp would fail it, as would a largest-allowed offset
    that no longer pages (the bound must be the spec's, not a smaller one)."""
    job_id = fake_pleo.add_job(items=3)
    params: dict[str, Any] = {"job_id": job_id} if "items" in path else {}
    response = await client.get(path, params={**params, "offset": 2**70})
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "INVALID_REQUEST"
    assert "offset" in response.json()["message"]
    edge = await client.get(path, params={**params, "offset": 2**63 - 1})
    assert edge.status_code == 200, edge.text
    assert edge.json()["data"] == []


async def test_status_filter_pages_over_matching_items(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Filtering job items by status pages over the matching items only, with their total."""
    job_id = fake_pleo.add_job(items=30, status="in_progress")
    ids = fake_pleo.accounting_entry_ids(job_id)
    done = ids[3:30:3]
    updates = [{"accountingEntryId": i, "status": "successful"} for i in done]
    assert (await client.put(f"/v3/export-jobs/{job_id}/items", json=updates)).status_code == 200
    pending: list[str] = []
    body = await _items(client, job_id, status="pending", limit=7)
    pending += _ids(body)
    while body["pagination"]["hasNextPage"]:
        body = await _items(
            client, job_id, status="pending", limit=7, after=body["pagination"]["endCursor"]
        )
        pending += _ids(body)
    assert pending == [i for i in ids if i not in done]
    assert body["pagination"]["total"] == 21
    successful = await _items(client, job_id, status="successful", limit=100)
    assert _ids(successful) == done
    assert successful["pagination"]["currentRequestPagination"]["parameters"] == {
        "status": ["successful"]
    }


async def test_cursor_survives_its_item_leaving_the_filter(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A cursor still anchors the next page after its own item no longer matches the filter."""
    job_id = fake_pleo.add_job(items=10, status="in_progress")
    ids = fake_pleo.accounting_entry_ids(job_id)
    first = await _items(client, job_id, status="pending", limit=5)
    reported = [{"accountingEntryId": i, "status": "successful"} for i in _ids(first)]
    await client.put(f"/v3/export-jobs/{job_id}/items", json=reported)
    second = await _items(
        client, job_id, status="pending", limit=5, after=first["pagination"]["endCursor"]
    )
    assert _ids(second) == ids[5:]


async def test_jobs_are_listed_oldest_first(
    client: httpx.AsyncClient, fake_pleo: FakePleo, fake_pleo_clock: Any, version: int
) -> None:
    """Jobs come oldest first by createdAt, or newest first with sorting by createdAt DESC."""
    company_id = fake_pleo.add_company()
    created = []
    for status in ("completed", "failed", "pending"):
        created.append(fake_pleo.add_job(company_id, items=1, status=status))
        fake_pleo_clock.advance(60)
    params: dict[str, Any] = {"company_id": company_id}
    listed = (await client.get(f"/v{version}/export-jobs", params=params)).json()
    assert [job["id"] for job in listed["data"]] == created
    params |= {"sorting_keys": "createdAt", "sorting_order": "DESC"}
    newest = (await client.get(f"/v{version}/export-jobs", params=params)).json()
    assert [job["id"] for job in newest["data"]] == created[::-1]
    assert newest["pagination"]["currentRequestPagination"]["sortingOrder"] == ["DESC"]


async def test_jobs_filter_by_company_and_statuses(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """`statuses` repeats to select several statuses; v2 also honours the deprecated `status`."""
    first, second = fake_pleo.add_company(), fake_pleo.add_company()
    done = fake_pleo.add_job(first, status="completed")
    pending = fake_pleo.add_job(first, status="pending")
    running = fake_pleo.add_job(second, status="in_progress")
    query: list[tuple[str, str | int | float | bool | None]] = [
        ("statuses", "pending"),
        ("statuses", "in_progress"),
    ]
    both = (await client.get("/v3/export-jobs", params=query)).json()
    assert [job["id"] for job in both["data"]] == [pending, running]
    assert both["pagination"]["currentRequestPagination"]["parameters"] == {
        "statuses": ["pending", "in_progress"]
    }
    mine = (await client.get("/v3/export-jobs", params={"company_id": first})).json()
    assert [job["id"] for job in mine["data"]] == [done, pending]
    legacy = (await client.get("/v2/export-jobs", params={"status": "completed"})).json()
    assert [job["id"] for job in legacy["data"]] == [done]


async def test_job_cursor_survives_a_status_change(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A job that leaves the status filter between two pages still anchors the next page."""
    jobs = [fake_pleo.add_job(status="pending") for _ in range(4)]
    first = (await client.get("/v3/export-jobs", params={"statuses": "pending", "limit": 2})).json()
    await client.post("/v3/export-job-events", json={"jobId": jobs[1], "event": "started"})
    params = {"statuses": "pending", "limit": 2, "after": first["pagination"]["endCursor"]}
    second = (await client.get("/v3/export-jobs", params=params)).json()
    assert [job["id"] for job in second["data"]] == jobs[2:]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    n=st.integers(0, 60),
    excluded=st.sets(st.integers(0, 59)),
    limit=st.integers(1, 15),
)
def test_complement_view_pages_like_a_list(n: int, excluded: set[int], limit: int) -> None:
    """Paging the complement view forward and backward matches paging the explicit list."""
    drop = sorted(k for k in excluded if k < n)
    expected = [k for k in range(n) if k not in excluded]
    view = ComplementView(n, drop)
    assert view.total() == len(expected)
    assert view.keys(0, len(expected)) == expected
    seen: list[int] = []
    request = PageRequest(kind="I", limit=limit)
    while True:
        keys, info = page(view, request)
        seen += keys
        if not info["hasNextPage"]:
            break
        request = PageRequest(kind="I", limit=limit, after=keys[-1])
    assert seen == expected
    for key in range(n + 1):
        assert view.rank_before(key) == sum(1 for k in expected if k < key)
