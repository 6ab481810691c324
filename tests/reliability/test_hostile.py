"""Hostile responses: whatever Pleo (or a proxy in front of it) answers, the SDK parses it or
raises a typed ``PleoError`` — never a bare KeyError/TypeError/ValueError out of generated code.

Bodies start from real answers of the fake for each v2/v3 response kind and are then damaged by
hypothesis: unknown enum values, extra fields, nulls, deleted keys, large strings, wrong types,
truncated JSON, HTML pages, empty or binary bodies, under 2xx and error statuses alike.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pleo_export import (
    APIStatusError,
    Booked,
    ExportWorker,
    PaginationError,
    PleoError,
    PleoExport,
    ResponseValidationError,
    RetryPolicy,
)
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record
from .conftest import BASE_URL, client_on

pytestmark = pytest.mark.timeout(120)

EXAMPLES_PER_KIND = 150
NO_RETRY = RetryPolicy(max_retries=0)
#: The longest error message a response may produce: a 200-character body snippet, the method,
#: the path and the SDK's own words.
MAX_MESSAGE = 1_000


@dataclass(frozen=True)
class Ids:
    """The ids the calls under test are made with."""

    job: str
    entry: str


async def _drain(pager: Any) -> list[Any]:
    return [item async for item in pager]


def _update(entry: str) -> list[dict[str, Any]]:
    return [{"accountingEntryId": entry, "status": "successful", "externalId": "GL-1"}]


Call = Callable[[PleoExport, Ids], Awaitable[Any]]

#: Response kind → (request the sample is taken from, the SDK call that reads such a response).
KINDS: dict[str, tuple[tuple[str, str], Call]] = {
    "jobs.get v3": (("GET", "/v3/export-jobs/{job}"), lambda p, i: p.jobs.get(i.job)),
    "jobs.get v2": (("GET", "/v2/export-jobs/{job}"), lambda p, i: p.v2.jobs.get(i.job)),
    "jobs.list v3": (
        ("GET", "/v3/export-jobs?limit=2"),
        lambda p, i: _drain(p.jobs.list(limit=2)),
    ),
    "jobs.list v2": (
        ("GET", "/v2/export-jobs?limit=2"),
        lambda p, i: _drain(p.v2.jobs.list(limit=2)),
    ),
    "job_items.list v3": (
        ("GET", "/v3/export-jobs/{job}/items?limit=3"),
        lambda p, i: _drain(p.job_items.list(i.job, limit=3)),
    ),
    "job_items.list v2": (
        ("GET", "/v2/export-jobs/{job}/items?limit=3"),
        lambda p, i: _drain(p.v2.job_items.list(i.job, limit=3)),
    ),
    "job_items.update v3": (
        ("PUT", "/v3/export-jobs/{job}/items"),
        lambda p, i: p.job_items.update(i.job, _update(i.entry)),
    ),
    "job_items.update v2": (
        ("PUT", "/v2/export-jobs/{job}/items"),
        lambda p, i: p.v2.job_items.update(i.job, _update(i.entry)),
    ),
    "export_items.list v3": (
        ("GET", "/v3/export-items?job_id={job}&limit=2"),
        lambda p, i: _drain(p.export_items.list(i.job, limit=2)),
    ),
    "export_items.list v2": (
        ("GET", "/v2/export-items?job_id={job}&limit=2"),
        lambda p, i: _drain(p.v2.export_items.list(i.job, limit=2)),
    ),
}


async def _samples() -> tuple[Ids, dict[str, bytes]]:
    """Real answers of the fake, one per kind: a running job with some items already reported."""
    fake = FakePleo(seed=8)
    company = fake.add_company()
    fake.add_job(company, items=3, status="completed_with_errors")
    job = fake.add_job(company, items=6, status="in_progress", vendor_based_bookkeeping=True)
    entries = fake.accounting_entry_ids(job)
    # A failed and a successful item, so the optional fields hold values, and one unknown id
    # so the update answer has an ``errors`` entry too.
    first = [
        {"accountingEntryId": entries[0], "status": "failed", "failureReason": "No vendor",
         "failureReasonType": "validation_failure"},
        {"accountingEntryId": entries[1], "status": "successful", "externalId": "GL-7",
         "externalUrl": "https://erp.example/GL-7", "exportedAt": "2025-03-01T10:00:00Z"},
        {"accountingEntryId": "00000000-0000-4000-8000-000000000000", "status": "successful"},
    ]  # fmt: skip
    bodies: dict[str, bytes] = {}
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=BASE_URL, auth=(DEFAULT_API_KEY, "")
    ) as http:
        for kind, ((method, url), _) in KINDS.items():
            body = first if method == "PUT" else None
            response = await http.request(method, url.format(job=job), json=body)
            assert response.status_code == 200, (kind, response.text)
            bodies[kind] = response.content
    return Ids(job=job, entry=entries[2]), bodies


@pytest.fixture(scope="module")
def samples() -> tuple[Ids, dict[str, bytes]]:
    """The sample answers, fetched once for the module."""
    return asyncio.run(_samples())


# -- damaging a JSON document ----------------------------------------------------------------

Path = tuple[str | int, ...]


def _paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every path in a JSON document, the root included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
#: Values a newer Pleo might send where this SDK knows a fixed set, and near-misses of known ones.
UNKNOWN_ENUMS = st.one_of(
    st.sampled_from(
        ["archived", "on_hold", "crypto_purchase", "PENDING", "Successful", "", " pending", "null"]
    ),
    st.text(min_size=1, max_size=20),
)
LARGE_STRINGS = st.sampled_from([10_000, 250_000, 1_000_000]).map(lambda n: "Ω€x" * (n // 3))

OPS = ("null", "delete", "enum", "wrong_type", "large", "extra")


@st.composite
def _mutation(draw: st.DrawFn) -> tuple[str, int, Any]:
    op = draw(st.sampled_from(OPS))
    where = draw(st.integers(min_value=0, max_value=10_000))
    if op == "enum":
        value: Any = draw(UNKNOWN_ENUMS)
    elif op == "wrong_type":
        value = draw(JSON_VALUES)
    elif op == "large":
        value = draw(LARGE_STRINGS)
    elif op == "extra":
        value = (draw(st.text(min_size=1, max_size=12)), draw(JSON_VALUES))
    else:
        value = None
    return op, where, value


def _apply(doc: Any, mutation: tuple[str, int, Any]) -> Any:
    """Apply one mutation at one path of ``doc`` (a fresh copy); return the new document."""
    op, where, value = mutation
    paths = list(_paths(doc))
    path = paths[where % len(paths)]
    if op == "extra":
        target = _get(doc, path)
        if isinstance(target, dict):
            target[value[0]] = value[1]
            return doc
        op, value = "wrong_type", value[1]
    if not path:  # the root itself
        return None if op in ("null", "delete") else value
    parent, key = _get(doc, path[:-1]), path[-1]
    if op == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
    else:
        parent[key] = None if op == "null" else value
    return doc


def _get(doc: Any, path: Path) -> Any:
    for key in path:
        doc = doc[key]
    return doc


HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center>"
    b"<h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
#: Non-2xx statuses a proxy or Pleo may answer; 2xx other than 200 too.
ODD_STATUSES = [201, 203, 204, 206, 299, 301, 304, 400, 401, 403, 404, 409, 413, 422, 429]
ODD_STATUSES += [500, 502, 503, 504, 520, 599]
SCALAR_BODIES = [b"null", b"[]", b"{}", b'"ok"', b"0", b"true", b"\xef\xbb\xbf{}"]


@st.composite
def hostile_response(draw: st.DrawFn, sample: bytes) -> tuple[str, int, bytes, str]:
    """(variant, status, body, content type) damaged from the ``sample`` answer."""
    variant = draw(
        st.sampled_from(
            ["mutated"] * 6 + ["truncated", "html", "empty", "json", "binary", "scalar", "nan"]
        )
    )
    if variant == "mutated":
        doc = json.loads(sample)
        for mutation in draw(st.lists(_mutation(), min_size=1, max_size=4)):
            doc = _apply(doc, mutation)
        body = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()
    elif variant == "truncated":
        body = sample[: draw(st.integers(min_value=0, max_value=len(sample) - 1))]
    elif variant == "html":
        body = HTML_PAGE
    elif variant == "empty":
        body = b""
    elif variant == "json":
        body = json.dumps(draw(JSON_VALUES)).encode()
    elif variant == "binary":
        body = draw(st.binary(min_size=1, max_size=64))
    elif variant == "scalar":
        body = draw(st.sampled_from(SCALAR_BODIES))
    else:  # JSON with NaN/Infinity tokens, which strict parsers refuse
        doc = json.loads(sample)
        doc["pagination" if "pagination" in doc else "data"] = float("nan")
        body = json.dumps(doc).encode()
    status = draw(st.sampled_from([200] * 8 + ODD_STATUSES))
    content_type = draw(
        st.sampled_from(["application/json;charset=UTF-8", "text/html", "text/plain", ""])
    )
    return variant, status, body, content_type


# -- the property ----------------------------------------------------------------------------

OUTCOMES: Counter[str] = Counter()


class Serve:
    """A MockTransport handler serving whatever body the current example set."""

    def __init__(self) -> None:
        self.status, self.body, self.content_type = 200, b"", ""
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        headers = {"content-type": self.content_type} if self.content_type else {}
        return httpx.Response(self.status, content=self.body, headers=headers)


@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_bodies_parse_or_raise_typed_errors(
    kind: str, samples: tuple[Ids, dict[str, bytes]]
) -> None:
    """Every damaged answer either parses or raises a PleoError of the right family."""
    ids, bodies = samples
    (_, call) = KINDS[kind]
    serve = Serve()
    tried = Counter[str]()

    @settings(
        max_examples=EXAMPLES_PER_KIND,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(response=hostile_response(bodies[kind]))
    def check(response: tuple[str, int, bytes, str]) -> None:
        variant, serve.status, serve.body, serve.content_type = response
        outcome = asyncio.run(_call(call, ids, serve))
        tried[f"{variant}: {outcome}"] += 1
        if 200 <= serve.status < 300:
            assert outcome in ("parsed", "ResponseValidationError", "PaginationError"), outcome
        else:
            assert outcome.startswith("APIStatusError"), outcome

    check()
    OUTCOMES.update({f"{kind} | {key}": n for key, n in tried.items()})
    assert sum(tried.values()) >= EXAMPLES_PER_KIND // 2
    _record_hostile()


async def _call(call: Call, ids: Ids, serve: Serve) -> str:
    """Make the SDK call against the served answer; name the outcome."""
    http = httpx.AsyncClient(transport=httpx.MockTransport(serve))
    async with PleoExport(api_key="k", base_url=BASE_URL, http_client=http, retry=NO_RETRY) as pleo:
        try:
            await call(pleo, ids)
        except APIStatusError as exc:
            if len(str(exc)) > MAX_MESSAGE:
                return f"unexpected {len(str(exc)):,}-character message"
            return "APIStatusError"
        except (ResponseValidationError, PaginationError) as exc:
            if len(str(exc)) > MAX_MESSAGE:  # a hostile body must not make a huge log line
                return f"unexpected {len(str(exc)):,}-character message"
            return type(exc).__name__
        except PleoError as exc:  # typed, but not the family this answer calls for
            return f"unexpected {type(exc).__name__}"
        finally:
            await http.aclose()
    return "parsed"


def _record_hostile() -> None:
    by_outcome = Counter[str]()
    for key, n in OUTCOMES.items():
        by_outcome[key.rsplit(": ", 1)[-1]] += n
    record(
        "hostile",
        response_kinds=len({key.split(" | ")[0] for key in OUTCOMES}),
        bodies_tried=sum(OUTCOMES.values()),
        outcomes=dict(by_outcome),
        untyped_exceptions=0,
    )


# -- forward compatibility: what a newer Pleo release sends must simply parse ----------------


@pytest.mark.parametrize("mutation", ["unknown_enum", "extra_fields"])
async def test_newer_pleo_answers_parse(mutation: str) -> None:
    """Unknown enum values and unannounced fields in every response kind parse and are kept."""
    fake = FakePleo(seed=9)
    job = fake.add_job(items=5, status="in_progress")
    entry = fake.accounting_entry_ids(job)[0]
    fake.faults.add(mutation)  # type: ignore[arg-type]
    async with client_on(fake) as pleo:
        ids = Ids(job=job, entry=entry)
        for kind, (_, call) in KINDS.items():
            result = await call(pleo, ids)
            assert result is not None, kind
        got = await pleo.jobs.get(job)
        if mutation == "unknown_enum":
            assert str(got.status) == "archived"
        else:
            assert "unannouncedField" in got.additional_properties


# -- the worker survives what the parser lets through --------------------------------------

#: Job fields whose wrong-typed values the generated parser keeps as they came (it checks only
#: ids and the creation time), each with values a broken proxy or a newer Pleo might send.
LENIENT_JOB_FIELDS = (
    "lastUpdatedAt", "startedAt", "completedAt", "expiredAt", "createdBy", "failureReason",
    "failureReasonType", "expiresIn", "numberOfItems", "isInteractive", "status",
)  # fmt: skip
WRONG_VALUES: tuple[Any, ...] = (12345, 1.5, ["2025-01-01T00:00:00Z"], {"at": 1}, True, "soon")


class JobsRewritten(httpx.AsyncBaseTransport):
    """The fake in-process, with one field of every job it lists or gets replaced."""

    def __init__(self, fake: FakePleo, field: str, value: Any) -> None:
        self._inner = fake.transport()
        self._field, self._value = field, value

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer from the fake; rewrite job bodies."""
        response = await self._inner.handle_async_request(request)
        path = request.url.path
        if request.method != "GET" or not path.startswith("/v3/export-jobs") or "/items" in path:
            return response
        body = json.loads(await response.aread())
        jobs = body["data"] if isinstance(body.get("data"), list) else [body.get("data")]
        for job in jobs:
            if isinstance(job, dict):
                job[self._field] = self._value
        return httpx.Response(response.status_code, json=body)


@pytest.mark.parametrize("field", LENIENT_JOB_FIELDS)
async def test_worker_survives_wrong_typed_job_fields(field: str) -> None:
    """Whatever type a lenient job field arrives in, ExportWorker keeps running and exports."""
    survived = 0
    for value in WRONG_VALUES:
        fake = FakePleo(seed=10)
        company = fake.add_company()
        running = fake.add_job(company, items=3, status="in_progress")
        pending = fake.add_job(items=3)
        http = httpx.AsyncClient(transport=JobsRewritten(fake, field, value))
        async with PleoExport(
            api_key=DEFAULT_API_KEY, base_url=BASE_URL, http_client=http, retry=NO_RETRY
        ) as pleo:
            worker = ExportWorker(pleo, lambda _: Booked(), poll_interval=0.01, resume_idle=0)
            task = asyncio.create_task(worker.run())
            # A job whose status is nonsense cannot be told apart from one it must not touch:
            # it is left alone (Pleo expires it), and the worker goes on with the rest.
            expected = [pending] if field == "status" else [running, pending]
            for _ in range(500):
                if task.done() or all(fake.job(j)["status"] == "completed" for j in expected):
                    break
                await asyncio.sleep(0.01)
            worker.stop()
            await asyncio.wait_for(task, timeout=10)  # the worker did not die: no exception
        await http.aclose()
        for job in expected:
            assert fake.job(job)["status"] == "completed", (field, value)
        survived += 1
    assert survived == len(WRONG_VALUES)
