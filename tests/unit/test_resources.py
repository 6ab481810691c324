"""The resources over the per-version wire adapters: ``report`` turns ``ItemOutcome`` values into
each version's update body, and bad caller input is refused before any request."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pytest_httpx import HTTPXMock

from pleo_export import InvalidArgumentError, PleoExport
from pleo_export._outcome import ItemOutcome, OutcomeStatus

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = uuid.UUID("0b3c7a52-4f0e-4d7e-9a47-6a1f0c2d9e11")
ENTRY = uuid.UUID("5e1d6c6a-1f1e-4b8b-8a9f-3c2b1a0d9e8f")
OUTCOMES = [
    ItemOutcome(
        ENTRY,
        OutcomeStatus.SUCCESSFUL,
        external_id="JE-1",
        exported_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    ),
    ItemOutcome(
        uuid.UUID(int=7),
        OutcomeStatus.FAILED,
        failure_reason="x",
        failure_reason_type="vendor_unknown",
    ),
]


@pytest.mark.parametrize("version", ["v3", "v2"])
async def test_report_sends_each_outcome_in_the_versions_json(
    pleo: PleoExport, httpx_mock: HTTPXMock, version: str
) -> None:
    """The adapter builds the update body from the outcomes: camelCase keys, fields left
    unset absent, on the version's own path; a field renamed, dropped or sent as null fails
    this."""
    url = f"{BASE_URL}/{version}/export-jobs/{JOB_ID}/items"
    httpx_mock.add_response(method="PUT", url=url, json={"data": [], "errors": []})
    api = pleo.v3 if version == "v3" else pleo.v2
    await api.report(JOB_ID, OUTCOMES)
    (request,) = httpx_mock.get_requests()
    assert json.loads(request.content) == [
        {
            "accountingEntryId": str(ENTRY),
            "status": "successful",
            "externalId": "JE-1",
            "exportedAt": "2026-01-02T03:04:05+00:00",
        },
        {
            "accountingEntryId": str(uuid.UUID(int=7)),
            "status": "failed",
            "failureReason": "x",
            "failureReasonType": "vendor_unknown",
        },
    ]


@pytest.mark.parametrize("version", ["v3", "v2"])
async def test_report_goes_straight_down_the_wire(
    pleo: PleoExport, httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    """``report`` builds its update models once and sends them itself: the public
    ``job_items.update`` (which checks and coerces a caller's input) is not on its way. Fails
    if ``report`` hands its models to the resource again (issue 25: one call down the wire)."""

    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("report went through job_items.update")

    api = pleo.v3 if version == "v3" else pleo.v2
    monkeypatch.setattr(api.job_items, "update", refuse)
    url = f"{BASE_URL}/{version}/export-jobs/{JOB_ID}/items"
    data = [{"accountingEntryId": str(ENTRY), "exportJobId": str(JOB_ID), "status": "successful"}]
    httpx_mock.add_response(method="PUT", url=url, json={"data": data, "errors": []})
    answer = await api.report(JOB_ID, OUTCOMES[:1])
    assert [item.accounting_entry_id for item in answer.data] == [ENTRY]


@pytest.mark.parametrize(
    ("update", "complaint"),
    [
        ({"accountingEntryId": str(ENTRY), "status": "successful", "externalID": "1"}, "unknown"),
        ({"accountingEntryId": str(ENTRY), "status": "succesful"}, "succesful"),
        ({"accountingEntryId": str(ENTRY)}, "not a valid job item update"),
        ("successful", "expected UpdateExportJobItemV3 or a dict"),
    ],
)
async def test_a_malformed_update_is_refused_before_any_request(
    pleo: PleoExport, httpx_mock: HTTPXMock, update: object, complaint: str
) -> None:
    """A typo'd key or enum value, a missing field or a wrong type raises
    ``InvalidArgumentError`` naming ``updates[0]`` and sends nothing."""
    with pytest.raises(InvalidArgumentError, match=complaint) as caught:
        await pleo.v3.job_items.update(JOB_ID, [update])  # type: ignore[list-item]
    assert caught.value.argument.startswith("updates[0]")
    assert httpx_mock.get_requests() == []


async def test_list_filters_are_checked_against_the_versions_enums(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """Job statuses and item statuses are each version's enums: an unknown string is refused
    before any request."""
    with pytest.raises(InvalidArgumentError, match="archived"):
        pleo.v2.jobs.list(statuses=["archived"])
    with pytest.raises(InvalidArgumentError, match="done"):
        pleo.v3.job_items.list(JOB_ID, status="done")
    assert httpx_mock.get_requests() == []


async def test_an_unknown_paging_keyword_is_a_type_error_naming_it(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """``**paging`` takes the ``PagingOptions`` keys only: a typo is the ``TypeError`` Python
    raised when the keywords were written out, before any request (fails if ``ListArgs``
    stopped checking the keys: the typo would be dropped silently)."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'limt'"):
        pleo.v3.jobs.list(limt=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'max_item'"):
        pleo.v2.export_items.list(JOB_ID, max_item=1)  # type: ignore[call-arg]
    assert httpx_mock.get_requests() == []
