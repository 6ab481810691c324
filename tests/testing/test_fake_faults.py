"""Fault injection in-process: each kind, route matching, rates, limits, switches and counts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pleo_export.testing import (
    UNKNOWN_ITEM_STATUS,
    UNKNOWN_ITEM_TYPE,
    UNKNOWN_JOB_STATUS,
    FakePleo,
)

_PUT_ITEMS = "PUT /v3/export-jobs/{jobId}/items"


def _running_job(fake: FakePleo, items: int = 3) -> tuple[str, list[str]]:
    job_id = fake.add_job(items=items, status="in_progress")
    return job_id, fake.accounting_entry_ids(job_id)


async def test_status_fault_answers_without_touching_state(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A status fault answers its status with an ExceptionInfo body and leaves the state alone."""
    job_id, ids = _running_job(fake_pleo)
    fake_pleo.faults.add("status", status=503, route=_PUT_ITEMS)
    update = [{"accountingEntryId": ids[0], "status": "successful"}]
    response = await client.put(f"/v3/export-jobs/{job_id}/items", json=update)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert response.json()["type"] == "SERVICE_UNAVAILABLE"
    assert fake_pleo.item_status_counts(job_id) == {"pending": 3}
    assert (await client.get(f"/v3/export-jobs/{job_id}")).status_code == 200
    assert fake_pleo.faults.counts == {"status": 1}


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_html_status_fault_looks_like_a_proxy_page(
    client: httpx.AsyncClient, fake_pleo: FakePleo, status: int
) -> None:
    """With html=True a status fault sends a text/html page, as a proxy in front of Pleo would."""
    fake_pleo.faults.add("status", status=status, html=True)
    response = await client.get("/v3/export-jobs")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert f"<title>{status} " in response.text


async def test_rate_limit_fault_sends_retry_after(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A rate_limit fault answers 429 with a Retry-After header in seconds."""
    fake_pleo.faults.add("rate_limit", retry_after=7)
    response = await client.get("/v2/export-jobs")
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")
    assert response.json()["type"] == "TOO_MANY_REQUESTS"


async def test_drop_fault_raises_a_protocol_error(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A drop fault closes the connection unanswered; in-process that is RemoteProtocolError."""
    job_id = fake_pleo.add_job(items=1)
    fake_pleo.faults.add("drop", route="createExportJobEvent")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/v3/export-job-events", json={"jobId": job_id, "event": "started"})
    assert fake_pleo.job(job_id)["status"] == "pending"


async def test_lost_response_applies_the_request(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A lost_response fault applies the request to the state and then drops the connection."""
    job_id = fake_pleo.add_job(items=1)
    fake_pleo.faults.add("lost_response", route="createExportJobEventV3", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/v3/export-job-events", json={"jobId": job_id, "event": "started"})
    assert fake_pleo.job(job_id)["status"] == "in_progress"
    retry = await client.post("/v3/export-job-events", json={"jobId": job_id, "event": "started"})
    assert retry.status_code == 422


async def test_delay_beyond_the_timeout_is_a_read_timeout(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """A delay beyond the read timeout raises ReadTimeout before the request is applied."""
    job_id = fake_pleo.add_job(items=1)
    fake_pleo.faults.add("delay", seconds=5, times=1)
    body = {"jobId": job_id, "event": "started"}
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/v3/export-job-events", json=body, timeout=0.1)
    assert fake_pleo.job(job_id)["status"] == "pending"
    assert (await client.post("/v3/export-job-events", json=body, timeout=0.1)).status_code == 202


async def test_short_delay_still_answers(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """A delay shorter than the timeout only slows the answer down."""
    fake_pleo.faults.add("delay", seconds=0.05)
    assert (await client.get("/v3/export-jobs", timeout=2)).status_code == 200
    assert fake_pleo.faults.counts == {"delay": 1}


async def test_unknown_enum_values_replace_known_ones(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """unknown_enum rewrites job status, item status, item type and update error type."""
    job_id, _ = _running_job(fake_pleo)
    fake_pleo.faults.add("unknown_enum")
    jobs = (await client.get("/v3/export-jobs")).json()["data"]
    job = (await client.get(f"/v2/export-jobs/{job_id}")).json()["data"]
    items = (await client.get(f"/v3/export-jobs/{job_id}/items")).json()["data"]
    export_items = (await client.get("/v3/export-items", params={"job_id": job_id})).json()["data"]
    unknown = [
        {"accountingEntryId": "77777777-7777-4777-8777-777777777777", "status": "successful"}
    ]
    update = (await client.put(f"/v3/export-jobs/{job_id}/items", json=unknown)).json()
    assert {j["status"] for j in jobs} == {job["status"]} == {UNKNOWN_JOB_STATUS}
    assert {i["status"] for i in items} == {UNKNOWN_ITEM_STATUS}
    assert {i["type"] for i in export_items} == {UNKNOWN_ITEM_TYPE}
    assert update["errors"][0]["type"] == "ACCOUNTING_ENTRY_LOCKED"
    assert fake_pleo.job(job_id)["status"] == "in_progress"


async def test_extra_fields_appear_at_every_level(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """extra_fields adds unknown keys to the body, to each data object and to pagination."""
    job_id, _ = _running_job(fake_pleo)
    fake_pleo.faults.add("extra_fields", route="GET /v3/*")
    listed = (await client.get(f"/v3/export-jobs/{job_id}/items")).json()
    assert "unannouncedTopLevelField" in listed
    assert all("unannouncedField" in item for item in listed["data"])
    assert "unannouncedPagingField" in listed["pagination"]
    one = (await client.get(f"/v3/export-jobs/{job_id}")).json()
    assert "unannouncedField" in one["data"]
    assert "unannouncedTopLevelField" not in (await client.get(f"/v2/export-jobs/{job_id}")).json()


@pytest.mark.parametrize(
    ("route", "hits"),
    [
        (None, {"GET /v2/export-jobs", "GET /v3/export-jobs", "GET /v3/export-jobs/{id}"}),
        ("getExportJobsListV3", {"GET /v3/export-jobs"}),
        ("getExportJobsList", {"GET /v2/export-jobs", "GET /v3/export-jobs"}),
        ("GET /v3/export-jobs/{jobId}", {"GET /v3/export-jobs/{id}"}),
        ("GET /v3/*", {"GET /v3/export-jobs", "GET /v3/export-jobs/{id}"}),
        ("* /v2/export-jobs", {"GET /v2/export-jobs"}),
    ],
)
async def test_rules_match_routes(
    client: httpx.AsyncClient, fake_pleo: FakePleo, route: str | None, hits: set[str]
) -> None:
    """A route is an operationId (with or without version) or a glob over method and path."""
    job_id = fake_pleo.add_job(items=1)
    fake_pleo.faults.add("status", status=500, route=route)
    calls = {
        "GET /v2/export-jobs": "/v2/export-jobs",
        "GET /v3/export-jobs": "/v3/export-jobs",
        "GET /v3/export-jobs/{id}": f"/v3/export-jobs/{job_id}",
    }
    failed = {name for name, path in calls.items() if (await client.get(path)).status_code == 500}
    assert failed == hits


async def _failures(fake: FakePleo, rate: float, requests: int) -> list[bool]:
    fake.faults.add("status", status=503, rate=rate)
    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://pleo") as http:
        return [
            (await http.get("/v3/export-jobs", auth=("pleo-test-key", ""))).status_code == 503
            for _ in range(requests)
        ]


async def test_rates_are_seeded_and_repeatable() -> None:
    """A fractional rate fails about that share of requests, in one pattern per seed."""
    first = await _failures(FakePleo(seed=4), 0.3, 200)
    again = await _failures(FakePleo(seed=4), 0.3, 200)
    other = await _failures(FakePleo(seed=5), 0.3, 200)
    assert first == again
    assert first != other
    assert 30 <= sum(first) <= 90


async def test_times_caps_the_injections(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """A rule with times=2 fails exactly the next two matching requests."""
    rule = fake_pleo.faults.add("status", status=502, times=2)
    codes = [(await client.get("/v3/export-jobs")).status_code for _ in range(4)]
    assert codes == [502, 502, 200, 200]
    assert rule.injected == 2
    assert rule.exhausted


async def test_faults_switch_on_and_off_at_runtime(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Rules toggle one by one, all together, or inside paused(); remove and clear drop them."""
    faults = fake_pleo.faults
    rule = faults.add("status", status=500)

    async def code() -> int:
        return (await client.get("/v3/export-jobs")).status_code

    assert await code() == 500
    rule.enabled = False
    assert await code() == 200
    rule.enabled = True
    faults.enabled = False
    assert await code() == 200
    faults.enabled = True
    with faults.paused():
        assert await code() == 200
    assert await code() == 500
    faults.remove(rule)
    assert await code() == 200
    faults.add("status", status=500)
    faults.clear()
    assert await code() == 200
    assert faults.counts == {"status": 2}
    faults.reset_counts()
    assert faults.counts == {}


async def test_first_answering_rule_wins(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """When several answering rules fire, the first added answers and only it is counted."""
    fake_pleo.faults.add("rate_limit")
    fake_pleo.faults.add("status", status=500)
    fake_pleo.faults.add("extra_fields")
    response = await client.get("/v3/export-jobs")
    assert response.status_code == 429
    assert fake_pleo.faults.counts == {"rate_limit": 1, "extra_fields": 1}


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "explode"}, {"kind": "status", "rate": 1.5}, {"kind": "status", "status": 200}],
)
def test_invalid_rules_are_refused(fake_pleo: FakePleo, kwargs: dict[str, Any]) -> None:
    """Unknown kinds, rates outside [0, 1] and non-error statuses raise ValueError."""
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match=r"kind|rate|status"):
        fake_pleo.faults.add(kind, **kwargs)


async def test_requests_are_counted_per_operation(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Every request that reaches an operation is counted under its operationId, faults included."""
    fake_pleo.faults.add("status", status=503, times=1)
    await client.get("/v3/export-jobs")
    await client.get("/v3/export-jobs")
    await client.get("/v2/export-jobs")
    assert fake_pleo.request_counts == {"getExportJobsListV3": 2, "getExportJobsListV2": 1}
