"""Parsing a 2xx body (``_wire/_parse.py``): a body that is not JSON or does not fit the spec
becomes ResponseValidationError (never a bare KeyError/TypeError/ValueError), and generated
endpoint modules are parsed by their own parsers."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pleo_export_raw.api.export_api_v_1 import get_export_jobs_list_v1
from pleo_export_raw.models import (
    CursorPaginatedResponseExportJobV3,
    DataResponseExportJobV3,
    ExportJobItemUpdateV3,
)
from pleo_export_raw.types import UNSET
from pytest_httpx import HTTPXMock

from pleo_export import PleoExport, ResponseValidationError
from pleo_export._wire._parse import decode, json_loads, parse, parse_generated, unset_to_none

if TYPE_CHECKING:
    from .conftest import Payloads

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"
GOOD_JOB: dict[str, Any] = {
    "id": JOB_ID,
    "companyId": "6f1c2f0e-9a55-4c3e-8a51-0c2f3f4a5b6c",
    "createdAt": "2024-05-01T10:00:00Z",
    "expiresIn": 3600,
    "isInteractive": True,
    "numberOfItems": 2,
    "status": "pending",
    "vendorBasedBookkeeping": False,
}


def _ok(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, request=httpx.Request("GET", JOB_URL))


BROKEN_JOB_BODIES = [
    pytest.param(b"", id="empty"),
    pytest.param(b"<html>oops</html>", id="html"),
    pytest.param(b'{"data": ', id="truncated"),
    pytest.param(b"null", id="null"),
    pytest.param(b"[]", id="list"),
    pytest.param(b'"text"', id="string"),
    pytest.param(b"{}", id="no-data"),
    pytest.param(json.dumps({"data": None}).encode(), id="data-null"),
    pytest.param(json.dumps({"data": []}).encode(), id="data-list"),
    pytest.param(json.dumps({"data": {**GOOD_JOB, "id": "not-a-uuid"}}).encode(), id="bad-id"),
    pytest.param(json.dumps({"data": {**GOOD_JOB, "id": 7}}).encode(), id="int-id"),
    pytest.param(json.dumps({"data": {**GOOD_JOB, "createdAt": 5}}).encode(), id="int-date"),
    pytest.param(json.dumps({"data": {**GOOD_JOB, "createdAt": "May"}}).encode(), id="bad-date"),
    pytest.param(
        json.dumps({"data": {k: v for k, v in GOOD_JOB.items() if k != "status"}}).encode(),
        id="missing-status",
    ),
]


@pytest.mark.parametrize("body", BROKEN_JOB_BODIES)
async def test_broken_2xx_job_body_is_a_response_validation_error(
    httpx_mock: HTTPXMock, body: bytes
) -> None:
    """jobs.get on a 200 whose body is not JSON or not an ExportJobV3 raises the typed error."""
    httpx_mock.add_response(url=JOB_URL, content=body)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(ResponseValidationError) as caught:
            await pleo.jobs.get(JOB_ID)
    assert caught.value.path == f"/v3/export-jobs/{JOB_ID}"
    assert caught.value.method == "GET"
    assert len(caught.value.body_snippet) <= 200
    assert len(httpx_mock.get_requests()) == 1  # a bad body is not retried


@pytest.mark.parametrize(
    "body",
    [
        {"data": [GOOD_JOB]},
        {"data": [GOOD_JOB], "pagination": None},
        {"data": [GOOD_JOB], "pagination": {"hasNextPage": False}},
        {"data": "x", "pagination": {}},
        {"data": [{"id": JOB_ID}], "pagination": {}},
    ],
)
async def test_broken_2xx_page_is_a_response_validation_error(
    httpx_mock: HTTPXMock, body: dict[str, Any]
) -> None:
    """A list page without valid pagination or items raises when iterated."""
    httpx_mock.add_response(json=body)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(ResponseValidationError):
            await pleo.jobs.list().first_page()


@pytest.mark.parametrize(
    "body",
    [{"data": []}, {"errors": []}, {"data": [{"status": "x"}], "errors": []}, {"data": 1}],
)
async def test_broken_update_result_is_a_response_validation_error(
    httpx_mock: HTTPXMock, body: dict[str, Any]
) -> None:
    """job_items.update on a 200 whose body is no ExportJobItemUpdateV3 raises the typed error."""
    httpx_mock.add_response(method="PUT", json=body)
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(ResponseValidationError):
            await pleo.job_items.update(
                JOB_ID, [{"accountingEntryId": str(uuid.uuid4()), "status": "failed"}]
            )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
JOB_FIELD = st.sampled_from(sorted(GOOD_JOB))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=JOB_FIELD, value=JSON, drop=st.booleans(), wrap=JSON)
def test_any_mangled_job_parses_or_raises_only_the_typed_error(
    field: str, value: Any, drop: bool, wrap: Any
) -> None:
    """Whatever a field or the envelope holds, parse returns a model or raises the typed error."""
    job = dict(GOOD_JOB)
    if drop:
        del job[field]
    else:
        job[field] = value
    for body in ({"data": job}, wrap, {"data": wrap}):
        for model in (DataResponseExportJobV3, CursorPaginatedResponseExportJobV3):
            with contextlib.suppress(ResponseValidationError):
                parse(_ok(json.dumps(body).encode()), model)


@settings(max_examples=60, deadline=None)
@given(value=JSON)
def test_any_update_result_parses_or_raises_only_the_typed_error(value: Any) -> None:
    """An ExportJobItemUpdateV3 parse never leaks a bare exception."""
    for body in (value, {"data": value, "errors": value}, {"data": [value], "errors": []}):
        with contextlib.suppress(ResponseValidationError):
            parse(_ok(json.dumps(body).encode()), ExportJobItemUpdateV3)


def test_parse_generated_uses_the_endpoints_own_parser(payloads: Payloads) -> None:
    """parse_generated reads a v1 list page with the v1 module's parser."""
    body = json.dumps(payloads.page([GOOD_JOB], has_next=True, end="ABC")).encode()
    page = parse_generated(get_export_jobs_list_v1, _ok(body))
    assert str(page.data[0].id) == JOB_ID
    assert page.pagination.end_cursor == "ABC"


@pytest.mark.parametrize("body", [b"", b"{}", b'{"data": 3, "pagination": {}}'])
def test_parse_generated_wraps_failures(body: bytes) -> None:
    """A generated parser's KeyError/TypeError/ValueError surfaces as ResponseValidationError."""
    with pytest.raises(ResponseValidationError, match="does not match the spec"):
        parse_generated(get_export_jobs_list_v1, _ok(body))


def test_decode_reads_json_and_types_the_failure() -> None:
    """decode returns the JSON of a body and raises the typed error for one that is not JSON;
    ``json_loads`` is the decoder it uses (orjson with the [fast] extra)."""
    assert json_loads(b'{"a": [1]}') == {"a": [1]}
    assert decode(_ok(b'{"a": [1]}')) == {"a": [1]}
    with pytest.raises(ResponseValidationError, match="not JSON"):
        decode(_ok(b"{"))


def test_unset_reads_as_none() -> None:
    """A generated model's ``UNSET`` reads as None and any other value, falsy ones too, as
    itself; fails if the helper confuses a left-out field with 0."""
    assert unset_to_none(UNSET) is None
    assert unset_to_none(0) == 0
