"""Unit tests of pleo_export.webhooks: verification, parsing, replay protection and the ASGI
endpoint in-process (httpx.ASGITransport); nothing here opens a socket."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.routing import Mount, Route

import pleo_export.webhooks as webhooks
from pleo_export import InvalidArgumentError, PleoError
from pleo_export._config import DEFAULT_WEBHOOK_TOLERANCE
from pleo_export.webhooks import (
    EXPORT_JOB_CREATED,
    EXPORT_JOB_CREATED_EVENT_TYPES,
    InMemoryReplayStore,
    ReplayStore,
    WebhookEndpoint,
    WebhookError,
    WebhookEvent,
    WebhookHeaderMissingError,
    WebhookPayloadError,
    WebhookReplayError,
    WebhookSignatureError,
    WebhookTimestampError,
    sign_webhook,
    verify_and_parse,
)

KEY = b"unit-test-webhook-key-0123456789"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-key-that-is-not-ours!!!!").decode()
NOW = datetime(2026, 4, 22, 10, 0, tzinfo=UTC)
JOB_ID = "8eb648ab-464b-42a0-ba17-eda703657e33"
COMPANY_ID = "12abc3d4-e567-890e-1234-abc56e78fabc"
CREATED_BY = "6b71f6bd-e83d-4d49-88ee-2b8cda2d57cf"
EVENT_ID = "2f0c6f49-4c63-4a8e-9a53-3d1c2b1f0a11"


def job_event(event_type: str = EXPORT_JOB_CREATED, **data: Any) -> dict[str, Any]:
    """Pleo's documented export-job-created body (pleo-domain.md §5.5), with overrides."""
    snapshot = {
        "id": JOB_ID,
        "companyId": COMPANY_ID,
        "createdAt": "2025-05-23T15:21:32Z",
        "createdBy": CREATED_BY,
        "expiresIn": 3600,
        "numberOfItems": 1,
        "status": "pending",
    }
    snapshot.update(data)
    return {"data": snapshot, "eventId": EVENT_ID, "eventType": event_type}


def delivery(
    document: Any = None,
    *,
    webhook_id: str = "msg_2Lk9unitTest",
    at: datetime = NOW,
    secret: str = SECRET,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a delivery signed as Pleo would sign it."""
    body = json.dumps(job_event() if document is None else document).encode()
    return sign_webhook(body, secret, webhook_id=webhook_id, timestamp=at), body


class Worker:
    """Records the job ids it is asked to look at."""

    def __init__(self, fail: bool = False) -> None:
        self.notified: list[str] = []
        self.fail = fail

    async def notify(self, job_id: str) -> None:
        """Record ``job_id``; raise if told to."""
        self.notified.append(job_id)
        if self.fail:
            raise RuntimeError("worker is broken")


# -- verify_and_parse --------------------------------------------------------------------------


def test_valid_delivery_verifies_and_parses() -> None:
    """A correctly signed export-job-created delivery becomes a typed event with its snapshot."""
    headers, body = delivery()
    event = verify_and_parse(headers, body, SECRET, now=NOW)
    assert event.webhook_id == "msg_2Lk9unitTest"
    assert event.timestamp == NOW
    assert event.timestamp.tzinfo is not None
    assert event.event_id == EVENT_ID
    assert event.event_type == EXPORT_JOB_CREATED
    assert event.is_export_job_created
    assert event.job is not None
    assert event.job.id == JOB_ID
    assert event.job.company_id == COMPANY_ID
    assert event.job.status == "pending"
    assert event.job.created_at == datetime(2025, 5, 23, 15, 21, 32, tzinfo=UTC)
    assert event.job.created_by == CREATED_BY
    assert event.job.expires_in == 3600
    assert event.job.number_of_items == 1
    assert event.data["companyId"] == COMPANY_ID
    assert event.job.raw == event.data


def test_str_body_and_raw_bytes_secret_are_accepted() -> None:
    """The body may be text and the secret the raw key bytes instead of ``whsec_<base64>``."""
    headers, body = delivery()
    event = verify_and_parse(headers, body.decode(), KEY, now=NOW)
    assert event.job is not None


def test_header_names_are_case_insensitive() -> None:
    """Headers match whatever case the framework hands them over in (httpx.Headers, Title-Case)."""
    headers, body = delivery()
    title_case = {name.title(): value for name, value in headers.items()}
    assert verify_and_parse(title_case, body, SECRET, now=NOW).job is not None
    assert verify_and_parse(httpx.Headers(headers), body, SECRET, now=NOW).job is not None


def test_signatures_interoperate_with_standardwebhooks() -> None:
    """Our signing verifies with the library's own verify, and the library's signing with ours."""
    body = json.dumps(job_event())
    ours = sign_webhook(body, SECRET, webhook_id="msg_interop")
    assert Webhook(SECRET).verify(body, ours) == job_event()
    now = datetime.now(UTC)
    theirs = {
        "webhook-id": "msg_interop",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg_interop", now, body),
    }
    assert verify_and_parse(theirs, body, SECRET).webhook_id == "msg_interop"


def test_tampered_body_is_refused() -> None:
    """Changing one byte of a signed body fails the signature check."""
    headers, body = delivery()
    tampered = body.replace(b'"numberOfItems": 1', b'"numberOfItems": 9')
    assert tampered != body
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(headers, tampered, SECRET, now=NOW)


def test_wrong_secret_is_refused() -> None:
    """A delivery signed with another secret fails the signature check."""
    headers, body = delivery(secret=OTHER_SECRET)
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(headers, body, SECRET, now=NOW)


def test_tampered_id_or_timestamp_is_refused() -> None:
    """The id and the timestamp are signed too: changing either fails the signature."""
    headers, body = delivery()
    with pytest.raises(WebhookSignatureError):
        verify_and_parse({**headers, "webhook-id": "msg_other"}, body, SECRET, now=NOW)
    later = str(int(headers["webhook-timestamp"]) + 1)
    with pytest.raises(WebhookSignatureError):
        verify_and_parse({**headers, "webhook-timestamp": later}, body, SECRET, now=NOW)


def test_any_matching_v1_signature_is_enough() -> None:
    """Of several signatures (key rotation) one v1 match suffices; others and junk are skipped."""
    headers, body = delivery()
    good = headers["webhook-signature"]
    wrong = sign_webhook(body, OTHER_SECRET, webhook_id="msg_2Lk9unitTest", timestamp=NOW)
    listed = f"v1a,xyz v2,{good[3:]} junk v1,!!notbase64 {wrong['webhook-signature']} {good}"
    assert verify_and_parse({**headers, "webhook-signature": listed}, body, SECRET, now=NOW)
    only_other_versions = f"v2,{good[3:]} v1a,{good[3:]}"
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(
            {**headers, "webhook-signature": only_other_versions}, body, SECRET, now=NOW
        )


@pytest.mark.parametrize("skew", [-301, 301, -3600, 86_400], ids=["old", "new", "hour", "day"])
def test_timestamp_outside_tolerance_is_refused(skew: int) -> None:
    """A timestamp more than 300 s before or after now is refused, before the signature."""
    headers, body = delivery(at=NOW + timedelta(seconds=skew))
    with pytest.raises(WebhookTimestampError, match="tolerance is 300 s"):
        verify_and_parse(headers, body, SECRET, now=NOW)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamp_within_tolerance_is_accepted(skew: int) -> None:
    """The window is inclusive: exactly 300 s either way still verifies."""
    headers, body = delivery(at=NOW + timedelta(seconds=skew))
    assert verify_and_parse(headers, body, SECRET, now=NOW).timestamp == NOW + timedelta(
        seconds=skew
    )


def test_tolerance_is_configurable() -> None:
    """A wider tolerance accepts an hour-old delivery that the default refuses."""
    headers, body = delivery(at=NOW - timedelta(hours=1))
    assert DEFAULT_WEBHOOK_TOLERANCE == 300.0
    with pytest.raises(WebhookTimestampError):
        verify_and_parse(headers, body, SECRET, now=NOW)
    assert verify_and_parse(headers, body, SECRET, now=NOW, tolerance=3600).job is not None


@pytest.mark.parametrize("value", ["soon", "1776852000.5", "-1776852000", "0x10", "1" * 13])
def test_timestamp_that_is_not_unix_seconds_is_refused(value: str) -> None:
    """``webhook-timestamp`` must be plain unix seconds."""
    headers, body = delivery()
    with pytest.raises(WebhookTimestampError, match="not unix seconds"):
        verify_and_parse({**headers, "webhook-timestamp": value}, body, SECRET, now=NOW)


def test_default_now_is_the_system_clock() -> None:
    """Without ``now`` the window is centred on the real current time."""
    headers, body = delivery(at=datetime.now(UTC))
    assert verify_and_parse(headers, body, SECRET).job is not None
    headers, body = delivery(at=NOW)
    with pytest.raises(WebhookTimestampError):
        verify_and_parse(headers, body, SECRET)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
@pytest.mark.parametrize("blank", [None, "", "   "], ids=["absent", "empty", "spaces"])
def test_missing_header_is_refused(header: str, blank: str | None) -> None:
    """Each of the three Standard Webhooks headers is required and named in the error."""
    headers, body = delivery()
    if blank is None:
        del headers[header]
    else:
        headers[header] = blank
    with pytest.raises(WebhookHeaderMissingError) as caught:
        verify_and_parse(headers, body, SECRET, now=NOW)
    assert caught.value.header == header
    assert header in str(caught.value)


def test_replayed_id_is_refused_with_the_event() -> None:
    """A second delivery of an accepted id raises WebhookReplayError carrying the parsed event."""
    store = InMemoryReplayStore()
    headers, body = delivery()
    first = verify_and_parse(headers, body, SECRET, now=NOW, replay_store=store)
    with pytest.raises(WebhookReplayError) as caught:
        verify_and_parse(headers, body, SECRET, now=NOW, replay_store=store)
    assert caught.value.webhook_id == first.webhook_id
    assert caught.value.event == first


def test_redelivery_with_a_fresh_timestamp_is_still_a_replay() -> None:
    """A sender's retry keeps the webhook-id under a new timestamp and is recognised."""
    store = InMemoryReplayStore()
    verify_and_parse(*delivery(), SECRET, now=NOW, replay_store=store)
    retry = delivery(at=NOW + timedelta(minutes=30))
    with pytest.raises(WebhookReplayError):
        verify_and_parse(*retry, SECRET, now=NOW + timedelta(minutes=30), replay_store=store)


def test_refused_deliveries_are_not_recorded() -> None:
    """Only a delivery that passed every other check claims its id in the store."""
    store = InMemoryReplayStore()
    headers, body = delivery()
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(headers, body + b" ", SECRET, now=NOW, replay_store=store)
    forged, _ = delivery(secret=OTHER_SECRET)
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(forged, body, SECRET, now=NOW, replay_store=store)
    assert len(store) == 0
    assert verify_and_parse(headers, body, SECRET, now=NOW, replay_store=store).job is not None
    assert headers["webhook-id"] in store


def test_without_a_store_nothing_is_remembered() -> None:
    """``replay_store=None`` (the function's default) verifies the same delivery every time."""
    headers, body = delivery()
    for _ in range(2):
        verify_and_parse(headers, body, SECRET, now=NOW)


def test_unknown_event_type_passes_through() -> None:
    """An event type the SDK does not know is returned with its data, not refused."""
    document = {
        "data": {"id": "x", "amount": 5},
        "eventId": EVENT_ID,
        "eventType": "v1.card.issued",
    }
    event = verify_and_parse(*delivery(document), SECRET, now=NOW)
    assert event.event_type == "v1.card.issued"
    assert not event.is_export_job_created
    assert event.job is None
    assert event.data == {"id": "x", "amount": 5}


def test_unknown_event_type_without_data_has_empty_data() -> None:
    """An unknown event with no data object parses with ``data == {}``."""
    document = {"eventId": EVENT_ID, "eventType": "v9.something.new"}
    assert verify_and_parse(*delivery(document), SECRET, now=NOW).data == {}


@pytest.mark.parametrize("event_type", sorted(EXPORT_JOB_CREATED_EVENT_TYPES))
def test_every_documented_spelling_is_export_job_created(event_type: str) -> None:
    """All four spellings Pleo's pages use (pleo-domain.md §6.3) parse the job snapshot."""
    event = verify_and_parse(*delivery(job_event(event_type)), SECRET, now=NOW)
    assert event.is_export_job_created
    assert event.job is not None
    assert event.job.id == JOB_ID


def test_event_type_variants_are_exactly_the_documented_four() -> None:
    """The accepted spellings are the four found in Pleo's docs, the canonical one among them."""
    assert {
        "v1.export-job.created",
        "v1.export.job-created",
        "v2.export-job.created",
        "export-job.created",
    } == EXPORT_JOB_CREATED_EVENT_TYPES
    assert EXPORT_JOB_CREATED in EXPORT_JOB_CREATED_EVENT_TYPES


def test_snapshot_is_lenient_about_optional_fields() -> None:
    """Only the two ids are required; absent or unparseable optional fields become None."""
    document = {
        "data": {"id": JOB_ID.upper(), "companyId": COMPANY_ID, "createdAt": "yesterday",
                 "expiresIn": "3600", "numberOfItems": True, "createdBy": None},
        "eventId": EVENT_ID,
        "eventType": EXPORT_JOB_CREATED,
    }  # fmt: skip
    job = verify_and_parse(*delivery(document), SECRET, now=NOW).job
    assert job is not None
    assert job.id == JOB_ID  # canonical lower-case
    assert (job.status, job.created_at, job.created_by) == (None, None, None)
    assert (job.expires_in, job.number_of_items) == (None, None)
    assert job.raw["createdAt"] == "yesterday"


def test_naive_created_at_is_taken_as_utc() -> None:
    """A createdAt without an offset is read as UTC, so every datetime is aware."""
    job = verify_and_parse(
        *delivery(job_event(createdAt="2025-05-23T15:21:32")), SECRET, now=NOW
    ).job
    assert job is not None
    assert job.created_at == datetime(2025, 5, 23, 15, 21, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"data": {}, "eventId": EVENT_ID}).encode(), "eventType"),
        (json.dumps({"data": {}, "eventType": "x.y", "eventId": 7}).encode(), "eventId"),
        (json.dumps({"data": [], "eventId": EVENT_ID, "eventType": "x.y"}).encode(), "data is"),
        (json.dumps(job_event(id=None)).encode(), "data.id"),
        (json.dumps(job_event(id="not-a-uuid")).encode(), "data.id"),
        (json.dumps(job_event(companyId=None)).encode(), "data.companyId"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
    ids=["text", "array", "no-type", "int-id", "data-list", "no-job-id", "bad-job-id",
         "no-company", "latin1"],
)  # fmt: skip
def test_malformed_body_is_refused(body: bytes, problem: str) -> None:
    """A signed body that is not a Pleo event raises WebhookPayloadError naming the problem."""
    headers = sign_webhook(body.decode("latin-1"), SECRET, webhook_id="msg_payload", timestamp=NOW)
    with pytest.raises(WebhookPayloadError, match=problem):
        verify_and_parse(headers, body, SECRET, now=NOW)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_!!!not base64!!!", b"", 42])
def test_unusable_secret_is_an_argument_error_without_the_secret(secret: Any) -> None:
    """A bad secret raises InvalidArgumentError whose message does not repeat it."""
    headers, body = delivery()
    with pytest.raises(InvalidArgumentError) as caught:
        verify_and_parse(headers, body, secret, now=NOW)
    assert caught.value.argument == "secret"
    if isinstance(secret, str) and len(secret) > len("whsec_"):
        assert secret[6:] not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_secret_never_appears_in_errors_or_reprs() -> None:
    """No error message, event repr or endpoint repr contains the secret or the key."""
    encoded = SECRET.removeprefix("whsec_")
    texts: list[str] = []
    headers, body = delivery()
    for bad_headers, bad_body in [
        ({**headers, "webhook-signature": "v1,AAAA"}, body),
        ({**headers, "webhook-timestamp": "1"}, body),
        ({k: v for k, v in headers.items() if k != "webhook-id"}, body),
    ]:
        with pytest.raises(WebhookError) as caught:
            verify_and_parse(bad_headers, bad_body, SECRET, now=NOW)
        texts += [str(caught.value), repr(caught.value)]
    texts.append(repr(verify_and_parse(headers, body, SECRET, now=NOW)))
    endpoint = WebhookEndpoint(SECRET)
    texts += [repr(endpoint), str(vars(endpoint)), repr(endpoint.replay_store)]
    for text in texts:
        assert SECRET not in text
        assert encoded not in text
        assert KEY.decode() not in text
    assert "[secure]" in repr(endpoint)


@pytest.mark.parametrize(
    ("argument", "kwargs"),
    [("tolerance", {"tolerance": -1}), ("now", {"now": datetime(2026, 4, 22, 10, 0)})],
)
def test_bad_tolerance_or_naive_now_is_an_argument_error(argument: str, kwargs: Any) -> None:
    """A negative tolerance or a naive ``now`` is refused before anything is checked."""
    with pytest.raises(InvalidArgumentError) as caught:
        verify_and_parse(*delivery(), SECRET, **kwargs)
    assert caught.value.argument == argument


@pytest.mark.parametrize(
    "error",
    [
        WebhookHeaderMissingError,
        WebhookTimestampError,
        WebhookSignatureError,
        WebhookPayloadError,
        WebhookReplayError,
    ],
)
def test_every_refusal_is_a_webhook_error_and_a_pleo_error(error: type[Exception]) -> None:
    """Catching WebhookError (or PleoError) catches every refusal."""
    assert issubclass(error, WebhookError)
    assert issubclass(error, PleoError)
    assert error.__module__ == "pleo_export.webhooks"


def test_public_names_match_all() -> None:
    """``pleo_export.webhooks.__all__`` is sorted and lists exactly the public names."""
    # Assertion rewriting adds "@py_…" names to modules of a pytest plugin's package; skip them.
    public = {name for name in vars(webhooks) if name.isidentifier() and not name.startswith("_")}
    assert set(webhooks.__all__) == public
    assert webhooks.__all__ == sorted(webhooks.__all__, key=lambda n: (not n.isupper(), n))


# -- InMemoryReplayStore -----------------------------------------------------------------------


class FakeMonotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_store_forgets_ids_after_ttl() -> None:
    """An id can be claimed again once its ttl has passed."""
    clock = FakeMonotonic()
    store = InMemoryReplayStore(ttl=60, clock=clock)
    assert store.claim("msg_a")
    assert not store.claim("msg_a")
    clock.now += 59.9
    assert not store.claim("msg_a")
    clock.now += 0.2
    assert "msg_a" not in store
    assert store.claim("msg_a")


def test_store_evicts_oldest_beyond_max_entries() -> None:
    """Past ``max_entries`` the oldest id is dropped, so memory stays bounded."""
    store = InMemoryReplayStore(max_entries=2)
    for webhook_id in ("msg_1", "msg_2", "msg_3"):
        assert store.claim(webhook_id)
    assert len(store) == 2
    assert "msg_1" not in store
    assert not store.claim("msg_3")


def test_store_release_lets_an_id_be_claimed_again() -> None:
    """Releasing an id (its handling failed) makes the sender's retry count as new."""
    store = InMemoryReplayStore()
    assert store.claim("msg_a")
    store.release("msg_a")
    store.release("msg_never_seen")
    assert store.claim("msg_a")


def test_store_defaults_and_protocol() -> None:
    """Defaults are 10,000 ids for 24 h, and the class satisfies the ReplayStore protocol."""
    store = InMemoryReplayStore()
    assert (store.max_entries, store.ttl) == (10_000, 86_400.0)
    assert isinstance(store, ReplayStore)


@pytest.mark.parametrize(
    ("kwargs", "argument"), [({"max_entries": 0}, "max_entries"), ({"ttl": 0}, "ttl")]
)
def test_store_refuses_bad_limits(kwargs: Any, argument: str) -> None:
    """A store that could hold nothing is refused."""
    with pytest.raises(InvalidArgumentError) as caught:
        InMemoryReplayStore(**kwargs)
    assert caught.value.argument == argument


# -- WebhookEndpoint, in-process ---------------------------------------------------------------


@pytest.fixture
def worker() -> Worker:
    """A worker that records notifications."""
    return Worker()


@pytest.fixture
def events() -> list[WebhookEvent]:
    """The events an endpoint's on_event received."""
    return []


@pytest.fixture
def endpoint(worker: Worker, events: list[WebhookEvent]) -> WebhookEndpoint:
    """An endpoint that records events and wakes ``worker``."""

    async def on_event(event: WebhookEvent) -> None:
        events.append(event)

    return WebhookEndpoint(SECRET, on_event=on_event, worker=worker)


@pytest.fixture
async def http(endpoint: WebhookEndpoint) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling ``endpoint`` in-process."""
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


def now_delivery(
    document: Any = None, webhook_id: str = "msg_endpoint"
) -> tuple[dict[str, str], bytes]:
    """A delivery signed at the real current time (the endpoint checks against the system clock)."""
    return delivery(document, webhook_id=webhook_id, at=datetime.now(UTC))


async def test_endpoint_accepts_and_wakes_the_worker(
    http: httpx.AsyncClient, endpoint: WebhookEndpoint, worker: Worker, events: list[WebhookEvent]
) -> None:
    """A valid delivery answers 204 with no body, reaches on_event and notifies the worker."""
    headers, body = now_delivery()
    response = await http.post("/", content=body, headers=headers)
    await endpoint.drain()
    assert response.status_code == 204
    assert response.content == b""
    assert [event.webhook_id for event in events] == ["msg_endpoint"]
    assert worker.notified == [JOB_ID]


async def test_endpoint_acknowledges_a_replay_without_acting(
    http: httpx.AsyncClient, endpoint: WebhookEndpoint, worker: Worker, events: list[WebhookEvent]
) -> None:
    """A redelivered id answers 204 (the sender stops) but neither notifies nor calls on_event."""
    headers, body = now_delivery()
    first = await http.post("/", content=body, headers=headers)
    second = await http.post("/", content=body, headers=headers)
    await endpoint.drain()
    assert (first.status_code, second.status_code) == (204, 204)
    assert len(events) == 1
    assert worker.notified == [JOB_ID]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("signature", 401),
        ("timestamp", 401),
        ("header", 400),
        ("payload", 400),
    ],
)
async def test_endpoint_refuses_bad_input_without_details(
    http: httpx.AsyncClient,
    endpoint: WebhookEndpoint,
    worker: Worker,
    events: list[WebhookEvent],
    caplog: pytest.LogCaptureFixture,
    change: str,
    status: int,
) -> None:
    """Forged or stale deliveries answer 401, malformed ones 400; the body is only the phrase."""
    headers, body = now_delivery()
    if change == "signature":
        body = body.replace(b"pending", b"pendinG")
    elif change == "timestamp":
        headers, body = delivery(webhook_id="msg_old", at=datetime.now(UTC) - timedelta(hours=1))
    elif change == "header":
        del headers["webhook-signature"]
    else:
        body = b"{}"
        headers = sign_webhook(body, SECRET, webhook_id="msg_bad_body")
    with caplog.at_level(logging.WARNING, logger="pleo_export.webhooks"):
        response = await http.post("/", content=body, headers=headers)
    await endpoint.drain()
    assert response.status_code == status
    assert response.text in {"Bad Request", "Unauthorized"}
    assert (events, worker.notified) == ([], [])
    assert caplog.records
    logged = caplog.text
    assert SECRET not in logged
    assert SECRET.removeprefix("whsec_") not in logged


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
async def test_endpoint_only_answers_post(http: httpx.AsyncClient, method: str) -> None:
    """Any other method answers 405 with ``Allow: POST``."""
    response = await http.request(method, "/")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_endpoint_refuses_a_body_over_the_limit(worker: Worker) -> None:
    """A body over ``max_body`` answers 413, whether or not Content-Length announced it."""
    endpoint = WebhookEndpoint(SECRET, worker=worker, max_body=64)
    headers, body = now_delivery()
    assert len(body) > 64

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        announced = await client.post("/", content=body, headers=headers)
        streamed = await client.post("/", content=chunks(), headers=headers)
    assert (announced.status_code, streamed.status_code) == (413, 413)
    assert worker.notified == []


async def test_endpoint_answers_500_and_releases_the_id_when_on_event_fails(worker: Worker) -> None:
    """If on_event raises, the delivery answers 500 and the sender's retry is handled as new."""
    calls: list[str] = []

    def on_event(event: WebhookEvent) -> None:
        calls.append(event.webhook_id)
        if len(calls) == 1:
            raise RuntimeError("queue unavailable")

    endpoint = WebhookEndpoint(SECRET, on_event=on_event, worker=worker)
    headers, body = now_delivery()
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        failed = await client.post("/", content=body, headers=headers)
        retried = await client.post("/", content=body, headers=headers)
    await endpoint.drain()
    assert (failed.status_code, retried.status_code) == (500, 204)
    assert calls == ["msg_endpoint", "msg_endpoint"]
    assert worker.notified == [JOB_ID]


async def test_endpoint_passes_unknown_events_to_on_event_only(
    http: httpx.AsyncClient, endpoint: WebhookEndpoint, worker: Worker, events: list[WebhookEvent]
) -> None:
    """An unknown event type is accepted and handed to on_event; the worker is not woken."""
    document = {"data": {}, "eventId": EVENT_ID, "eventType": "v1.card.issued"}
    headers, body = now_delivery(document)
    response = await http.post("/", content=body, headers=headers)
    await endpoint.drain()
    assert response.status_code == 204
    assert [event.event_type for event in events] == ["v1.card.issued"]
    assert worker.notified == []


async def test_a_failing_worker_does_not_fail_the_delivery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """worker.notify runs after the answer; if it raises, the error is logged, not returned."""
    worker = Worker(fail=True)
    endpoint = WebhookEndpoint(SECRET, worker=worker)
    headers, body = now_delivery()
    transport = httpx.ASGITransport(app=endpoint)
    with caplog.at_level(logging.ERROR, logger="pleo_export.webhooks"):
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            response = await client.post("/", content=body, headers=headers)
        await endpoint.drain()
    assert response.status_code == 204
    assert worker.notified == [JOB_ID]
    assert "worker.notify" in caplog.text


async def test_handle_works_without_asgi(endpoint: WebhookEndpoint, worker: Worker) -> None:
    """``handle(headers, body)`` returns the status for use from any framework's view."""
    headers, body = now_delivery()
    assert await endpoint.handle(headers, body) == 204
    assert await endpoint.handle({}, body) == 400
    await endpoint.drain()
    assert worker.notified == [JOB_ID]


@pytest.mark.parametrize("style", ["route", "mount"])
async def test_endpoint_mounts_in_starlette(worker: Worker, style: str) -> None:
    """The endpoint works as a Starlette Route target and as a Mount next to other routes."""
    endpoint = WebhookEndpoint(SECRET, worker=worker)
    route = (
        Route("/pleo/webhooks", endpoint, methods=["POST"])
        if style == "route"
        else Mount("/pleo/webhooks", app=endpoint)
    )
    app = Starlette(routes=[route])
    path = "/pleo/webhooks" if style == "route" else "/pleo/webhooks/"
    headers, body = now_delivery()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.post(path, content=body, headers=headers)
    await endpoint.drain()
    assert response.status_code == 204
    assert worker.notified == [JOB_ID]


async def test_endpoint_handles_lifespan() -> None:
    """Served as the root app, the endpoint completes startup and shutdown."""
    endpoint = WebhookEndpoint(SECRET)
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[Any] = []

    async def receive() -> Any:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await endpoint({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_endpoint_with_a_sync_on_event_and_no_worker() -> None:
    """on_event may be a plain function, and worker may be left out."""
    seen: list[str] = []
    endpoint = WebhookEndpoint(SECRET, on_event=lambda event: seen.append(event.event_id))
    headers, body = now_delivery()
    assert await endpoint.handle(headers, body) == 204
    assert seen == [EVENT_ID]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"secret": ""}, "secret"), ({"tolerance": -1}, "tolerance"), ({"max_body": 0}, "max_body")],
)
def test_endpoint_refuses_unusable_settings(kwargs: Any, argument: str) -> None:
    """The secret and limits are checked once, when the endpoint is made."""
    settings: dict[str, Any] = {"secret": SECRET, **kwargs}
    with pytest.raises(InvalidArgumentError) as caught:
        WebhookEndpoint(**settings)
    assert caught.value.argument == argument
