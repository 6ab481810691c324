"""The job state machine as data, the final-event policy, and the transition helpers' safety:
refusals before sending, failure fields only on ``failed``, and reconciling retried events."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pleo_export_raw.models import ExportJob, ExportJobV3
from pytest_httpx import HTTPXMock

from pleo_export import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BatchResult,
    BatchUpdateError,
    FailedBatch,
    InvalidArgumentError,
    InvalidStatusChangeError,
    InvalidTransitionError,
    PleoExport,
    RateLimitError,
    ServerError,
)
from pleo_export._lifecycle import (
    EVENTS,
    FINAL_STATUSES,
    KNOWN_STATUSES,
    TRANSITIONS,
    allowed_events,
    check_event_fields,
    check_transition,
    final_event,
    job_failure_type,
    job_failure_type_for,
    job_ref,
    may_have_landed,
    target_status,
)

if TYPE_CHECKING:
    from .conftest import Payloads

JOB_ID = "9b2f4c1e-3d5a-4e6f-8a7b-0c1d2e3f4a5b"
EVENTS_URL = "http://127.0.0.1:9/v3/export-job-events"
JOB_URL = f"http://127.0.0.1:9/v3/export-jobs/{JOB_ID}"
INVALID_CHANGE = {"type": "INVALID_EXPORT_JOB_STATUS_CHANGE", "message": "status change failed"}


def _job(payloads: Payloads, status: str) -> ExportJobV3:
    return ExportJobV3.from_dict(payloads.job(JOB_ID, status=status))


def _sent(httpx_mock: HTTPXMock) -> list[tuple[str, str]]:
    return [(request.method, request.url.path) for request in httpx_mock.get_requests()]


# -- the table and pure checks ---------------------------------------------------------------


def test_transitions_are_the_documented_four() -> None:
    """pending --started--> in_progress, in_progress --each final event--> that status."""
    assert dict(TRANSITIONS) == {
        ("pending", "started"): "in_progress",
        ("in_progress", "completed"): "completed",
        ("in_progress", "completed_with_errors"): "completed_with_errors",
        ("in_progress", "failed"): "failed",
    }
    with pytest.raises(TypeError):
        TRANSITIONS[("completed", "started")] = "in_progress"  # type: ignore[index]


@pytest.mark.parametrize("status", sorted(KNOWN_STATUSES))
@pytest.mark.parametrize("event", EVENTS)
def test_check_transition_follows_the_table(status: str, event: str) -> None:
    """Every known (status, event) pair is allowed exactly when the table lists it."""
    if (status, event) in TRANSITIONS:
        assert check_transition(status, event) == TRANSITIONS[status, event]
    else:
        with pytest.raises(InvalidTransitionError) as caught:
            check_transition(status, event, job_id=JOB_ID)
        assert caught.value.status == status
        assert caught.value.event == event
        assert caught.value.allowed == allowed_events(status)
        assert JOB_ID in str(caught.value)


def test_final_statuses_allow_nothing() -> None:
    """A final job accepts no event, so the error says the job is final."""
    for status in FINAL_STATUSES:
        assert allowed_events(status) == ()
    with pytest.raises(InvalidTransitionError, match="final"):
        check_transition("completed", "started")


def test_an_unknown_status_is_left_to_the_server() -> None:
    """A status newer than the SDK is not refused client-side."""
    assert check_transition("archived", "started") is None
    assert allowed_events("archived") == ()


def test_an_unknown_event_is_an_argument_error() -> None:
    """Events outside ExportJobEventType are refused as arguments, whatever the status."""
    with pytest.raises(InvalidArgumentError, match="canceled"):
        check_transition("in_progress", "canceled")
    with pytest.raises(InvalidArgumentError):
        target_status("canceled")


@pytest.mark.parametrize("event", ["started", "completed", "completed_with_errors"])
def test_failure_fields_only_ride_on_failed(event: str) -> None:
    """A reason or reason type on any event but ``failed`` is an argument error."""
    check_event_fields("failed", "ERP down", "accounting_system_unreachable")
    check_event_fields(event, None, None)
    with pytest.raises(InvalidArgumentError) as caught:
        check_event_fields(event, "why", None)
    assert caught.value.argument == "reason"
    with pytest.raises(InvalidArgumentError) as caught:
        check_event_fields(event, None, "validation_failure")
    assert caught.value.argument == "reason_type"


def test_job_ref_reads_ids_and_models(payloads: Payloads) -> None:
    """Ids carry no status; v3 and v2 models carry theirs as text; anything else is refused."""
    assert job_ref(JOB_ID) == (JOB_ID, None)
    assert job_ref(uuid.UUID(JOB_ID)) == (uuid.UUID(JOB_ID), None)
    assert job_ref(_job(payloads, "pending")) == (uuid.UUID(JOB_ID), "pending")
    v2 = ExportJob.from_dict(payloads.job(JOB_ID, status="in_progress"))
    assert job_ref(v2) == (uuid.UUID(JOB_ID), "in_progress")
    unknown_v2 = ExportJob.from_dict(payloads.job(JOB_ID, status="archived"))
    assert job_ref(unknown_v2)[1] == "archived"
    with pytest.raises(InvalidArgumentError):
        job_ref(42)


@pytest.mark.parametrize(
    ("any_successful", "any_failed", "event"),
    [
        (True, False, "completed"),
        (False, False, "completed"),
        (True, True, "completed_with_errors"),
        (False, True, "failed"),
    ],
)
def test_final_event_follows_the_items(any_successful: bool, any_failed: bool, event: str) -> None:
    """All good: completed; some failed: completed_with_errors; none good: failed."""
    assert final_event(any_successful=any_successful, any_failed=any_failed) == event


@pytest.mark.parametrize(
    ("item_types", "job_type"),
    [
        (
            ["accounting_system_unreachable"] * 3 + ["vendor_unknown"],
            "accounting_system_unreachable",
        ),
        (["vendor_unknown", "tag_unknown"], "validation_failure"),
        (["unexpected_failure", "unexpected_failure", None], "integration_unusable"),
        ([None, None], "validation_failure"),
        ([], "validation_failure"),
    ],
)
def test_job_failure_type_from_item_types(item_types: list[str | None], job_type: str) -> None:
    """The commonest item type with a job-level twin wins; others map to a fitting job type."""
    assert job_failure_type(item_types) == job_type


def _status_error(cls: type[Any], status: int) -> Exception:
    error: Exception = cls(
        status_code=status,
        method="GET",
        path="/",
        type=None,
        message=None,
        request_id=None,
        body_snippet="",
    )
    return error


@pytest.mark.parametrize(
    ("exc", "job_type"),
    [
        (_status_error(AuthenticationError, 401), "authentication_failure"),
        (_status_error(RateLimitError, 429), "pleo_rate_limit"),
        (_status_error(ServerError, 503), "service_unreachable"),
        (APITimeoutError("slow", method="GET", path="/"), "service_timeout"),
        (APIConnectionError("reset", method="GET", path="/"), "service_unreachable"),
        (ValueError("bad ledger mapping"), "integration_unusable"),
        (
            BatchUpdateError(
                BatchResult(failed_batches=[FailedBatch(0, [], _status_error(ServerError, 502))])
            ),
            "service_unreachable",
        ),
        (BatchUpdateError(BatchResult(errors=["refused"])), "integration_unusable"),
    ],
)
def test_job_failure_type_for_exceptions(exc: Exception, job_type: str) -> None:
    """Pleo API failures keep their own job-level type, also behind a failed batch update; the
    integration's own errors are integration_unusable."""
    assert job_failure_type_for(exc) == job_type


# -- the helpers over HTTP -------------------------------------------------------------------


async def test_a_forbidden_transition_sends_nothing(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """With a job model whose status forbids the event, no request is made at all."""
    with pytest.raises(InvalidTransitionError):
        await pleo.jobs.complete(_job(payloads, "pending"))
    with pytest.raises(InvalidTransitionError):
        await pleo.jobs.start(_job(payloads, "completed"))
    with pytest.raises(InvalidTransitionError):
        await pleo.jobs.fail(_job(payloads, "failed"), reason="x", reason_type="job_expired")
    assert httpx_mock.get_requests() == []


async def test_a_bad_reason_type_sends_nothing(pleo: PleoExport, httpx_mock: HTTPXMock) -> None:
    """Job-level reason types are checked against the 15-value enum before sending."""
    with pytest.raises(InvalidArgumentError) as caught:
        await pleo.jobs.fail(JOB_ID, reason="x", reason_type="vendor_unknown")
    assert caught.value.argument == "reason_type"
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("method", "event"),
    [
        ("start", "started"),
        ("complete", "completed"),
        ("complete_with_errors", "completed_with_errors"),
    ],
)
async def test_an_id_is_posted_without_a_read(
    pleo: PleoExport, httpx_mock: HTTPXMock, method: str, event: str
) -> None:
    """Given an id, the helper posts the event at once: one POST, no GET, no failure fields."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=202)
    await getattr(pleo.jobs, method)(JOB_ID)
    (request,) = httpx_mock.get_requests()
    assert json.loads(request.content) == {"jobId": JOB_ID, "event": event}


async def test_fail_sends_the_reason_and_its_type(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """``fail`` on an in-progress model sends failureReason and failureReasonType."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=202)
    await pleo.jobs.fail(
        _job(payloads, "in_progress"),
        reason="ERP down",
        reason_type="accounting_system_unreachable",
    )
    (request,) = httpx_mock.get_requests()
    assert json.loads(request.content) == {
        "jobId": JOB_ID,
        "event": "failed",
        "failureReason": "ERP down",
        "failureReasonType": "accounting_system_unreachable",
    }


@pytest.mark.parametrize(
    ("outcome", "landed"),
    [
        (httpx.Response(500), True),
        (httpx.Response(502), True),
        (httpx.Response(504), True),
        (httpx.Response(503), False),
        (httpx.Response(429), False),
        (httpx.Response(422), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("dropped"), True),
        (httpx.WriteError("broken pipe"), True),
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow connect"), False),
        (httpx.PoolTimeout("no connection"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_which_failed_attempts_may_have_landed(
    outcome: httpx.Response | Exception, landed: bool
) -> None:
    """Only errors after sending and 500/502/504 leave open that Pleo applied the request."""
    assert may_have_landed(outcome) is landed


async def test_a_retried_start_that_had_landed_succeeds(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """504, then 422 on the retry, and the job reads in_progress: the first attempt landed, and
    ``start`` says the claim was concluded from the re-read (False), not seen (True)."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=504)
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=422, json=INVALID_CHANGE)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="in_progress")})
    assert await pleo.jobs.start(JOB_ID) is False
    assert _sent(httpx_mock) == [
        ("POST", "/v3/export-job-events"),
        ("POST", "/v3/export-job-events"),
        ("GET", f"/v3/export-jobs/{JOB_ID}"),
    ]


async def test_a_lost_start_response_is_reconciled(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A dropped connection, then 422, then the job in_progress: ``started`` landed the first
    time, so ``start`` returns (no error) and reports the claim unconfirmed (False)."""
    httpx_mock.add_exception(httpx.RemoteProtocolError("server disconnected"), url=EVENTS_URL)
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=422, json=INVALID_CHANGE)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="in_progress")})
    assert await pleo.jobs.start(JOB_ID) is False


async def test_a_refused_attempt_is_never_taken_for_a_landed_one(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """503 (not processed), then 422, job in_progress: another worker claimed it in between,
    so ``start`` raises rather than claiming the job for a second worker."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=503)
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=422, json=INVALID_CHANGE)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="in_progress")})
    with pytest.raises(InvalidStatusChangeError) as caught:
        await pleo.jobs.start(JOB_ID)
    assert caught.value.actual_status == "in_progress"


async def test_refusals_that_use_up_the_retries_are_not_reconciled(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """Four 503s say the event was never processed: the error is raised without a re-read."""
    for _ in range(4):
        httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=503)
    with pytest.raises(ServerError):
        await pleo.jobs.complete(JOB_ID)
    assert {request.method for request in httpx_mock.get_requests()} == {"POST"}


async def test_a_retried_event_meeting_another_status_raises_with_it(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """After a retry, 422 and a job that is not where the event leads: the error says where
    it is."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=502)
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=422, json=INVALID_CHANGE)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="failed")})
    with pytest.raises(InvalidStatusChangeError) as caught:
        await pleo.jobs.complete(JOB_ID)
    assert caught.value.actual_status == "failed"


async def test_a_first_attempt_422_is_never_taken_as_success(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """A 422 to the only attempt means someone else moved the job, even into the target
    status: a competing worker's claim is not ours."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=422, json=INVALID_CHANGE)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="in_progress")})
    with pytest.raises(InvalidStatusChangeError) as caught:
        await pleo.jobs.start(JOB_ID)
    assert caught.value.actual_status == "in_progress"


async def test_a_failed_re_read_keeps_the_original_error(
    pleo: PleoExport, httpx_mock: HTTPXMock
) -> None:
    """When the job cannot be re-read either, the 422 is raised with no actual status."""
    httpx_mock.add_response(method="POST", url=EVENTS_URL, status_code=422, json=INVALID_CHANGE)
    httpx_mock.add_response(url=JOB_URL, status_code=404, json={"type": "EXPORT_NOT_FOUND"})
    with pytest.raises(InvalidStatusChangeError) as caught:
        await pleo.jobs.start(JOB_ID)
    assert caught.value.actual_status is None


async def test_an_unknown_outcome_is_settled_by_reading_the_job(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """Every attempt timed out, but the job is completed: the event landed, so no error."""
    for _ in range(4):  # the first attempt and 3 retries
        httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=EVENTS_URL)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="completed")})
    await pleo.jobs.complete(JOB_ID)


async def test_an_unknown_outcome_that_did_not_land_raises(
    pleo: PleoExport, httpx_mock: HTTPXMock, payloads: Payloads
) -> None:
    """Every attempt timed out and the job is still in progress: the timeout is raised."""
    for _ in range(4):
        httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=EVENTS_URL)
    httpx_mock.add_response(url=JOB_URL, json={"data": payloads.job(JOB_ID, status="in_progress")})
    with pytest.raises(APITimeoutError):
        await pleo.jobs.complete(JOB_ID)


async def test_v2_helpers_post_to_v2(pleo: PleoExport, httpx_mock: HTTPXMock) -> None:
    """``pleo.v2.jobs`` has the same helpers, on the v2 endpoint."""
    httpx_mock.add_response(
        method="POST", url="http://127.0.0.1:9/v2/export-job-events", status_code=202
    )
    await pleo.v2.jobs.start(JOB_ID)
    assert _sent(httpx_mock) == [("POST", "/v2/export-job-events")]
