"""The fake applies Pleo's Export API rules: state machine, one running job, limits and errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import httpx
import pytest
from reliability._figures import record

from pleo_export.testing import FakePleo, ManualClock


async def _event(
    client: httpx.AsyncClient, version: int, job_id: str, event: str, **extra: str
) -> httpx.Response:
    body = {"jobId": job_id, "event": event, **extra}
    return await client.post(f"/v{version}/export-job-events", json=body)


async def _put(
    client: httpx.AsyncClient, version: int, job_id: str, updates: Sequence[Mapping[str, object]]
) -> httpx.Response:
    return await client.put(f"/v{version}/export-jobs/{job_id}/items", json=updates)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


async def test_started_moves_pending_job_to_in_progress(
    client: httpx.AsyncClient, fake_pleo: FakePleo, version: int
) -> None:
    """Posting `started` answers 202 without a body and sets startedAt and lastUpdatedAt."""
    job_id = fake_pleo.add_job(items=2)
    response = await _event(client, version, job_id, "started")
    assert response.status_code == 202
    assert response.content == b""
    job = fake_pleo.job(job_id)
    assert job["status"] == "in_progress"
    assert job["startedAt"] is not None
    assert job["lastUpdatedAt"] == job["startedAt"]
    assert job["completedAt"] is None


@pytest.mark.parametrize("event", ["completed", "completed_with_errors", "failed"])
async def test_final_events_finish_an_in_progress_job(
    client: httpx.AsyncClient, fake_pleo: FakePleo, event: str
) -> None:
    """Each final event finishes a started job, sets completedAt, and keeps failure details."""
    job_id = fake_pleo.add_job(items=1, status="in_progress")
    reason = {"failureReason": "ERP down", "failureReasonType": "accounting_system_unreachable"}
    response = await _event(client, 3, job_id, event, **reason)
    assert response.status_code == 202
    job = fake_pleo.job(job_id)
    assert job["status"] == event
    assert job["completedAt"] is not None
    if event == "completed":
        assert job["failureReasonType"] is None
    else:
        assert job["failureReason"] == "ERP down"
        assert job["failureReasonType"] == "accounting_system_unreachable"


@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("pending", "completed"),
        ("pending", "completed_with_errors"),
        ("pending", "failed"),
        ("in_progress", "started"),
        ("completed", "started"),
        ("completed", "failed"),
        ("failed", "completed"),
        ("completed_with_errors", "completed"),
    ],
)
async def test_disallowed_transitions_are_422(
    client: httpx.AsyncClient, fake_pleo: FakePleo, status: str, event: str, version: int
) -> None:
    """An event the state machine does not allow gets 422 INVALID_EXPORT_JOB_STATUS_CHANGE."""
    job_id = fake_pleo.add_job(items=1, status=status)
    response = await _event(client, version, job_id, event)
    assert response.status_code == 422
    assert response.json()["type"] == "INVALID_EXPORT_JOB_STATUS_CHANGE"
    assert fake_pleo.job(job_id)["status"] == status


async def test_event_for_unknown_job_is_404(client: httpx.AsyncClient) -> None:
    """An event naming a job the fake does not know answers 404 EXPORT_NOT_FOUND."""
    response = await _event(client, 3, "00000000-0000-4000-8000-000000000000", "started")
    assert response.status_code == 404
    assert response.json() == {"type": "EXPORT_NOT_FOUND", "message": response.json()["message"]}


@pytest.mark.parametrize(
    "body",
    [
        {"jobId": "not-a-uuid", "event": "started"},
        {"event": "started"},
        {"jobId": "00000000-0000-4000-8000-000000000000", "event": "canceled"},
        {
            "jobId": "00000000-0000-4000-8000-000000000000",
            "event": "failed",
            "failureReasonType": "x",
        },
        ["not", "an", "object"],
    ],
)
async def test_malformed_event_is_400(client: httpx.AsyncClient, body: object) -> None:
    """A malformed event (bad id, unknown event or failure type) answers a 400 ExceptionInfo."""
    response = await client.post("/v3/export-job-events", json=body)
    assert response.status_code == 400
    assert set(response.json()) == {"type", "message"}


async def test_second_running_job_for_a_company_is_409(
    client: httpx.AsyncClient, fake_pleo: FakePleo, version: int
) -> None:
    """Creating a job while the company has a running one answers 409; afterwards it works."""
    company_id = fake_pleo.add_company()
    running = fake_pleo.add_job(company_id, items=1, status="in_progress")
    body = {"companyId": company_id, "accountingEntryIds": ["00000000-0000-4000-8000-000000000001"]}
    response = await client.post(f"/v{version}/export-jobs", json=body)
    assert response.status_code == 409
    assert response.json()["type"] == "EXPORT_ALREADY_IN_PROGRESS"
    assert (await _event(client, version, running, "completed")).status_code == 202
    response = await client.post(f"/v{version}/export-jobs", json=body)
    assert response.status_code == 201


async def test_created_job_serves_the_given_entries(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """POST export-jobs answers 201 with a pending job whose items are the given entries."""
    company_id = fake_pleo.add_company()
    ids = ["00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000a"]
    body = {"companyId": company_id, "accountingEntryIds": ids, "isInteractive": False}
    body["options"] = {"vendorBasedBookkeeping": True}
    response = await client.post("/v3/export-jobs", json=body)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    job = response.json()["data"]
    assert (job["status"], job["numberOfItems"], job["isInteractive"]) == ("pending", 2, False)
    assert job["vendorBasedBookkeeping"] is True
    items = (await client.get(f"/v3/export-jobs/{job['id']}/items")).json()["data"]
    assert [item["accountingEntryId"] for item in items] == sorted(ids)
    export_items = (await client.get("/v3/export-items", params={"job_id": job["id"]})).json()
    assert [item["companyId"] for item in export_items["data"]] == [company_id, company_id]


async def test_more_than_100_updates_is_413(
    client: httpx.AsyncClient, fake_pleo: FakePleo, version: int
) -> None:
    """A PUT with 101 item updates answers 413 EXPORT_JOB_ITEMS_UPDATE_LIMIT and changes nothing."""
    job_id = fake_pleo.add_job(items=101, status="in_progress")
    ids = fake_pleo.accounting_entry_ids(job_id)
    updates: list[dict[str, object]] = [
        {"accountingEntryId": i, "status": "successful"} for i in ids
    ]
    response = await _put(client, version, job_id, updates)
    assert response.status_code == 413
    assert response.json()["type"] == "EXPORT_JOB_ITEMS_UPDATE_LIMIT"
    assert fake_pleo.item_status_counts(job_id) == {"pending": 101}
    assert (await _put(client, version, job_id, updates[:100])).status_code == 200


@pytest.mark.parametrize("status", ["completed", "completed_with_errors", "failed"])
async def test_finished_job_refuses_updates_and_export_item_reads(
    client: httpx.AsyncClient, fake_pleo: FakePleo, status: str, version: int
) -> None:
    """A finished job answers item updates and export-item reads with 422, but lists its items."""
    job_id = fake_pleo.add_job(items=2, status=status)
    entry = fake_pleo.accounting_entry_ids(job_id)[0]
    response = await _put(
        client, version, job_id, [{"accountingEntryId": entry, "status": "successful"}]
    )
    assert response.status_code == 422
    assert response.json()["type"] == "EXPORT_JOB_STATUS_UNPROCESSABLE"
    response = await client.get(f"/v{version}/export-items", params={"job_id": job_id})
    assert response.status_code == 422
    assert response.json()["type"] == "EXPORT_JOB_STATUS_UNPROCESSABLE"
    assert (await client.get(f"/v{version}/export-jobs/{job_id}/items")).status_code == 200


async def test_unknown_job_is_404_everywhere(client: httpx.AsyncClient, version: int) -> None:
    """Every operation on an unknown job id answers 404 EXPORT_NOT_FOUND."""
    job_id = "11111111-1111-4111-8111-111111111111"
    responses = [
        await client.get(f"/v{version}/export-jobs/{job_id}"),
        await client.get(f"/v{version}/export-jobs/{job_id}/items"),
        await _put(client, version, job_id, []),
        await client.get(f"/v{version}/export-items", params={"job_id": job_id}),
    ]
    assert [r.status_code for r in responses] == [404] * 4
    assert {r.json()["type"] for r in responses} == {"EXPORT_NOT_FOUND"}


async def test_unknown_entry_is_a_per_item_error(
    client: httpx.AsyncClient, fake_pleo: FakePleo, version: int
) -> None:
    """An update naming an entry outside the job gets an `errors[]` entry inside a 200."""
    job_id = fake_pleo.add_job(items=2, status="in_progress")
    known = fake_pleo.accounting_entry_ids(job_id)[0]
    unknown = "22222222-2222-4222-8222-222222222222"
    updates: list[dict[str, object]] = [
        {"accountingEntryId": known, "status": "successful", "externalId": "JE-1"},
        {"accountingEntryId": unknown, "status": "successful"},
    ]
    response = await _put(client, version, job_id, updates)
    assert response.status_code == 200
    body = response.json()
    assert [item["accountingEntryId"] for item in body["data"]] == [known]
    assert body["errors"] == [
        {
            "accountingEntryId": unknown,
            "message": body["errors"][0]["message"],
            "type": "ACCOUNTING_ENTRY_DOES_NOT_EXIST",
        }
    ]


async def test_updates_are_stored_and_served(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Reported fields (status, external id and url, time, failure) appear on the job items."""
    job_id = fake_pleo.add_job(items=3, status="in_progress")
    first, second, _ = fake_pleo.accounting_entry_ids(job_id)
    updates: list[dict[str, object]] = [
        {
            "accountingEntryId": first,
            "status": "successful",
            "exportedAt": "2026-04-22T10:08:56Z",
            "externalId": "JE-10452",
            "externalUrl": "https://erp.example/JE-10452",
        },
        {
            "accountingEntryId": second.upper(),
            "status": "failed",
            "failureReason": "Vendor not found",
            "failureReasonType": "vendor_unknown",
        },
    ]
    response = await _put(client, 3, job_id, updates)
    assert response.status_code == 200
    assert response.json()["errors"] == []
    served = (await client.get(f"/v3/export-jobs/{job_id}/items")).json()["data"]
    assert served[0]["externalId"] == "JE-10452"
    assert served[0]["exportedAt"] == "2026-04-22T10:08:56Z"
    assert (served[1]["status"], served[1]["failureReasonType"]) == ("failed", "vendor_unknown")
    assert served[2]["status"] == "pending"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 1, "failed": 1, "pending": 1}


@pytest.mark.parametrize(("version", "expected"), [(2, 400), (3, 200)])
async def test_v3_only_failure_types_are_refused_by_v2(
    client: httpx.AsyncClient, fake_pleo: FakePleo, version: int, expected: int
) -> None:
    """`vendor_unknown` exists only in v3's item failure types; v2 rejects it as malformed."""
    job_id = fake_pleo.add_job(items=1, status="in_progress")
    entry = fake_pleo.accounting_entry_ids(job_id)[0]
    update = {"accountingEntryId": entry, "status": "failed", "failureReasonType": "vendor_unknown"}
    assert (await _put(client, version, job_id, [update])).status_code == expected


@pytest.mark.parametrize(
    "update",
    [
        {"status": "successful"},
        {"accountingEntryId": "nope", "status": "successful"},
        {"accountingEntryId": "33333333-3333-4333-8333-333333333333", "status": "done"},
        {
            "accountingEntryId": "33333333-3333-4333-8333-333333333333",
            "status": "successful",
            "exportedAt": "x",
        },
        "not an object",
    ],
)
async def test_malformed_item_update_is_400(
    client: httpx.AsyncClient, fake_pleo: FakePleo, update: object
) -> None:
    """An item update with a missing or malformed field fails the whole PUT with a 400."""
    job_id = fake_pleo.add_job(items=1, status="in_progress")
    response = await client.put(f"/v3/export-jobs/{job_id}/items", json=[update])
    assert response.status_code == 400


async def test_idle_job_expires_after_expires_in(
    client: httpx.AsyncClient, fake_pleo: FakePleo, fake_pleo_clock: ManualClock
) -> None:
    """A job idle for more than 3600 s fails with job_expired, expiredAt set, items abandoned."""
    job_id = fake_pleo.add_job(items=3)
    created = _parse(fake_pleo.job(job_id)["createdAt"])
    fake_pleo_clock.advance(3600)
    assert fake_pleo.job(job_id)["status"] == "pending"
    fake_pleo_clock.advance(1)
    job = (await client.get(f"/v3/export-jobs/{job_id}")).json()["data"]
    assert (job["status"], job["failureReasonType"]) == ("failed", "job_expired")
    assert _parse(job["expiredAt"]) == created + timedelta(seconds=3600)
    assert fake_pleo.item_status_counts(job_id) == {"abandoned": 3}
    response = await _event(client, 3, job_id, "started")
    assert response.status_code == 422


async def test_activity_postpones_expiry(
    client: httpx.AsyncClient, fake_pleo: FakePleo, fake_pleo_clock: ManualClock
) -> None:
    """Events and item updates refresh lastUpdatedAt, which restarts the expiry window."""
    job_id = fake_pleo.add_job(items=2)
    first, second = fake_pleo.accounting_entry_ids(job_id)
    fake_pleo_clock.advance(3000)
    assert (await _event(client, 3, job_id, "started")).status_code == 202
    fake_pleo_clock.advance(3000)
    done = [{"accountingEntryId": first, "status": "successful"}]
    assert (await _put(client, 3, job_id, done)).status_code == 200
    assert fake_pleo.job(job_id)["lastUpdatedAt"] is not None
    fake_pleo_clock.advance(3600)
    assert fake_pleo.job(job_id)["status"] == "in_progress"
    fake_pleo_clock.advance(1)
    assert fake_pleo.job(job_id)["status"] == "failed"
    assert fake_pleo.item(job_id, first)["status"] == "successful"
    assert fake_pleo.item(job_id, second)["status"] == "abandoned"


async def test_expired_job_frees_the_company(
    client: httpx.AsyncClient, fake_pleo: FakePleo, fake_pleo_clock: ManualClock
) -> None:
    """Once its running job has expired, the company can create a new job."""
    company_id = fake_pleo.add_company()
    fake_pleo.add_job(company_id, items=1)
    fake_pleo_clock.advance(hours=2)
    body = {"companyId": company_id, "accountingEntryIds": []}
    assert (await client.post("/v3/export-jobs", json=body)).status_code == 201


async def test_completing_leaves_unreported_items_abandoned(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Items still pending when the job completes become abandoned; reported ones stay."""
    job_id = fake_pleo.add_job(items=3, status="in_progress")
    first = fake_pleo.accounting_entry_ids(job_id)[0]
    await _put(client, 3, job_id, [{"accountingEntryId": first, "status": "successful"}])
    assert (await _event(client, 3, job_id, "completed_with_errors")).status_code == 202
    assert fake_pleo.item_status_counts(job_id) == {"successful": 1, "abandoned": 2}


async def test_v3_job_item_lookup_by_entry(client: httpx.AsyncClient, fake_pleo: FakePleo) -> None:
    """GET /v3/export-job-items finds an entry's job item, or answers 404 EXPORT_ENTRY_NOT_FOUND."""
    job_id = fake_pleo.add_job(items=2)
    company_id = fake_pleo.job(job_id)["companyId"]
    entry = fake_pleo.accounting_entry_ids(job_id)[1]
    params = {"company_id": company_id, "accounting_entry_id": entry}
    response = await client.get("/v3/export-job-items", params=params)
    assert response.status_code == 200
    assert response.json()["data"]["exportJobId"] == job_id
    params["company_id"] = "44444444-4444-4444-8444-444444444444"
    response = await client.get("/v3/export-job-items", params=params)
    assert (response.status_code, response.json()["type"]) == (404, "EXPORT_ENTRY_NOT_FOUND")
    assert (await client.get("/v2/export-job-items", params=params)).status_code == 404


async def test_v3_search_finds_items_by_entry_and_status(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """The v3 search returns the newest job item of each entry, filtered by status."""
    job_id = fake_pleo.add_job(items=3, status="in_progress")
    ids = fake_pleo.accounting_entry_ids(job_id)
    await _put(client, 3, job_id, [{"accountingEntryId": ids[0], "status": "successful"}])
    body = {"accountingEntryIds": [*ids, "55555555-5555-4555-8555-555555555555"]}
    response = await client.post("/v3/export-job-items:search", json=body)
    assert [item["accountingEntryId"] for item in response.json()["data"]] == ids
    response = await client.post("/v3/export-job-items:search", json={**body, "status": "pending"})
    assert [item["accountingEntryId"] for item in response.json()["data"]] == ids[1:]


async def test_company_switches_trigger_documented_400s(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """Unmapped contra accounts fail v3 reads and creation; multi-currency wallets fail v2 reads."""
    company_id = fake_pleo.add_company(contra_accounts_configured=False, multi_currency=True)
    job_id = fake_pleo.add_job(company_id, items=1)
    v3 = await client.get("/v3/export-items", params={"job_id": job_id})
    assert (v3.status_code, v3.json()["type"]) == (400, "MISSING_CONTRA_ACCOUNTS")
    v2 = await client.get("/v2/export-items", params={"job_id": job_id})
    assert (v2.status_code, v2.json()["type"]) == (400, "UNSUPPORTED_API_VERSION")
    body = {"companyId": company_id, "accountingEntryIds": []}
    created = await client.post("/v3/export-jobs", json=body)
    assert (created.status_code, created.json()["type"]) == (400, "MISSING_CONTRA_ACCOUNTS")


async def test_event_log_counts_every_report(
    client: httpx.AsyncClient, fake_pleo: FakePleo
) -> None:
    """The event log records job changes and each item report, so double reports are visible."""
    job_id = fake_pleo.add_job(items=2)
    first, second = fake_pleo.accounting_entry_ids(job_id)
    await _event(client, 3, job_id, "started")
    await _put(client, 3, job_id, [{"accountingEntryId": first, "status": "successful"}])
    await _put(client, 3, job_id, [{"accountingEntryId": first, "status": "successful"}])
    await _put(client, 3, job_id, [{"accountingEntryId": second, "status": "failed"}])
    await _event(client, 3, job_id, "completed_with_errors")
    assert fake_pleo.item_update_counts(job_id) == {first: 2, second: 1}
    kinds = [(e.kind, e.event or e.accounting_entry_id) for e in fake_pleo.events(job_id)]
    assert kinds == [
        ("job_created", None),
        ("job_status", "started"),
        ("item_update", first),
        ("item_update", first),
        ("item_update", second),
        ("job_status", "completed_with_errors"),
    ]


def test_seeded_job_statuses_set_item_statuses(fake_pleo: FakePleo) -> None:
    """Jobs seeded as finished carry matching item statuses and timestamps."""
    company_id = fake_pleo.add_company()
    completed = fake_pleo.add_job(company_id, items=4, status="completed")
    with_errors = fake_pleo.add_job(company_id, items=4, status="completed_with_errors")
    failed = fake_pleo.add_job(company_id, items=4, status="failed")
    assert fake_pleo.item_status_counts(completed) == {"successful": 4}
    assert fake_pleo.item_status_counts(with_errors) == {"failed": 1, "successful": 3}
    assert fake_pleo.item_status_counts(failed) == {"abandoned": 4}
    assert fake_pleo.job(failed)["failureReasonType"] == "accounting_system_unreachable"
    assert fake_pleo.job(completed)["completedAt"] is not None


def test_seeding_refuses_a_second_running_job(fake_pleo: FakePleo) -> None:
    """Seeding keeps Pleo's rule of one running job per company, but history can be added freely."""
    company_id = fake_pleo.add_company()
    fake_pleo.add_job(company_id, status="pending")
    with pytest.raises(ValueError, match="running job"):
        fake_pleo.add_job(company_id, status="in_progress")
    fake_pleo.add_job(company_id, status="completed")
    with pytest.raises(ValueError, match="status"):
        fake_pleo.add_job(company_id, status="archived")


WRITE_ROUTES = [
    ("POST", "/v2/export-jobs"),
    ("POST", "/v3/export-jobs"),
    ("POST", "/v2/export-job-events"),
    ("POST", "/v3/export-job-events"),
    ("PUT", "/v2/export-jobs/{job}/items"),
    ("PUT", "/v3/export-jobs/{job}/items"),
    ("POST", "/v3/export-job-items:search"),
]


#: The (route, depth) cases answered 400 so far; the figure is recorded once all are.
NESTED_ANSWERED: set[tuple[str, str, int]] = set()
NESTED = "fake: a POST/PUT body nested 5,000 or 100,000 deep"


@pytest.mark.parametrize("depth", [900, 5000, 100_000])
@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
async def test_deeply_nested_body_is_400(
    client: httpx.AsyncClient, fake_pleo: FakePleo, method: str, path: str, depth: int
) -> None:
    """A body nested thousands deep, bare or inside a field, is Pleo's 400 on every POST/PUT
    route; the parser's RecursionError answered 500 before (the 5,000 and 100,000 cases)."""
    route, path = path, path.format(job=fake_pleo.add_job(items=1, status="in_progress"))
    for body in ("[" * depth + "]" * depth, '{"jobId": ' + "[" * depth + "]" * depth + "}"):
        response = await client.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (body[:20], response.text[:200])
        assert set(response.json()) == {"type", "message"}
    NESTED_ANSWERED.add((method, route, depth))
    if len(NESTED_ANSWERED) == len(WRITE_ROUTES) * 3:
        record(
            "hostile_servers",
            **{NESTED: f"400 INVALID_REQUEST on {len(WRITE_ROUTES)} routes × 900, 5,000, 100,000"},
        )
