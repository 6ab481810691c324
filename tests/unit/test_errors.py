"""Error mapping: every documented Pleo error type to its class, statuses to their bases,
proxy pages to ServerError, and every httpx failure to a PleoError."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

import pleo_export
from pleo_export import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ExportAlreadyInProgressError,
    ExportEntryNotFoundError,
    ExportNotFoundError,
    InvalidStatusChangeError,
    JobFinishedError,
    MissingContraAccountsError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PleoError,
    PleoExport,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnprocessableEntityError,
    UnsupportedApiVersionError,
    UpdateLimitError,
)
from pleo_export._errors import ERROR_TYPES, body_snippet, status_error

BASE_URL = "http://127.0.0.1:9"  # intercepted by pytest-httpx; never connected to
JOB_ID = "3d3c4a59-2a0e-4d67-9a1e-1d5f2f0a9b10"
JOB_URL = f"{BASE_URL}/v3/export-jobs/{JOB_ID}"

#: Pleo's documented error types (pleo-domain.md §1.11): status, type, class.
DOCUMENTED = [
    (400, "MISSING_CONTRA_ACCOUNTS", MissingContraAccountsError),
    (400, "UNSUPPORTED_API_VERSION", UnsupportedApiVersionError),
    (404, "EXPORT_NOT_FOUND", ExportNotFoundError),
    (404, "EXPORT_ENTRY_NOT_FOUND", ExportEntryNotFoundError),
    (409, "EXPORT_ALREADY_IN_PROGRESS", ExportAlreadyInProgressError),
    (413, "EXPORT_JOB_ITEMS_UPDATE_LIMIT", UpdateLimitError),
    (422, "INVALID_EXPORT_JOB_STATUS_CHANGE", InvalidStatusChangeError),
    (422, "EXPORT_JOB_STATUS_UNPROCESSABLE", JobFinishedError),
]


def _response(status: int, body: Any = None, **kwargs: Any) -> httpx.Response:
    request = httpx.Request("GET", JOB_URL)
    if isinstance(body, dict):
        return httpx.Response(status, json=body, request=request, **kwargs)
    return httpx.Response(status, content=body or b"", request=request, **kwargs)


def test_the_table_covers_exactly_the_documented_types() -> None:
    """ERROR_TYPES lists each documented Pleo error type once, no more."""
    assert {name for _, name, _ in DOCUMENTED} == set(ERROR_TYPES)


@pytest.mark.parametrize(("status", "error_type", "cls"), DOCUMENTED)
@pytest.mark.parametrize("spelling", [str.upper, str.lower, str.title])
def test_documented_types_map_to_their_class_in_any_case(
    status: int, error_type: str, cls: type[APIStatusError], spelling: Any
) -> None:
    """A documented ``type`` selects its class whatever its letter case."""
    body = {"type": spelling(error_type), "message": "explained"}
    error = status_error(_response(status, body), method="GET", path="/v3/x")
    assert type(error) is cls
    assert error.status_code == status
    assert error.type == spelling(error_type)
    assert error.message == "explained"


@pytest.mark.parametrize(("status", "error_type", "cls"), DOCUMENTED)
async def test_documented_types_are_raised_through_the_client(
    httpx_mock: HTTPXMock, status: int, error_type: str, cls: type[APIStatusError]
) -> None:
    """A documented error response raises its class from a real call, unretried."""
    httpx_mock.add_response(url=JOB_URL, status_code=status, json={"type": error_type})
    async with PleoExport(api_key="k", base_url=BASE_URL) as pleo:
        with pytest.raises(cls) as caught:
            await pleo.jobs.get(JOB_ID)
    assert caught.value.method == "GET"
    assert caught.value.path == f"/v3/export-jobs/{JOB_ID}"
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (520, ServerError),
        (599, ServerError),
        (418, APIStatusError),
        (302, APIStatusError),
    ],
)
def test_statuses_without_a_known_type_map_to_their_base(
    status: int, cls: type[APIStatusError]
) -> None:
    """Each status gets its class; unknown 5xx (520) are ServerError, others APIStatusError."""
    error = status_error(_response(status, {"type": "SOMETHING_NEW"}), method="GET", path="/p")
    assert type(error) is cls


def test_a_type_under_the_wrong_status_keeps_the_status_class() -> None:
    """EXPORT_NOT_FOUND on a 400 is a BadRequestError, not an ExportNotFoundError."""
    error = status_error(_response(400, {"type": "EXPORT_NOT_FOUND"}), method="GET", path="/p")
    assert type(error) is BadRequestError


def test_html_proxy_page_is_a_server_error_with_a_short_snippet() -> None:
    """An HTML 502 from a proxy becomes a ServerError whose message quotes a short snippet."""
    html = (
        b"<html>\n  <head><title>502 Bad Gateway</title></head>\n  <body>"
        + b"x" * 5000
        + b"</body>\n</html>"
    )
    error = status_error(_response(502, html), method="GET", path="/v3/export-jobs")
    assert type(error) is ServerError
    assert error.type is None
    assert error.body_snippet.startswith("<html> <head><title>502 Bad Gateway</title>")
    assert len(error.body_snippet) <= 200
    assert len(str(error)) < 300
    assert str(error).startswith("502 from GET /v3/export-jobs: <html>")


def test_message_includes_request_id_when_present() -> None:
    """A request id header is kept on the error and shown in its message."""
    error = status_error(
        _response(500, {"message": "oops"}, headers={"X-Request-Id": "req-42"}),
        method="GET",
        path="/p",
    )
    assert error.request_id == "req-42"
    assert "[request id req-42]" in str(error)


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[1, 2]", b'{"type": 5, "message": ["x"]}', b"\xff\xfe", b"{not json"],
)
def test_odd_error_bodies_still_give_a_typed_error(body: bytes) -> None:
    """Bodies that are not ExceptionInfo still map by status, with no type or message."""
    error = status_error(_response(404, body), method="GET", path="/p")
    assert type(error) is NotFoundError
    assert error.type is None
    assert error.message is None


def test_body_snippet_collapses_whitespace_and_truncates() -> None:
    """Snippets are one line and at most 200 characters, ending in an ellipsis when cut."""
    assert body_snippet(b"  a\n\n b\t c ") == "a b c"
    long = body_snippet(b"y" * 1000)
    assert len(long) == 200
    assert long.endswith("…")


def _httpx_request_errors() -> list[type[httpx.RequestError]]:
    """Every concrete httpx exception a request can raise (RequestError and subclasses)."""
    found: list[type[httpx.RequestError]] = []
    pending: list[type[httpx.RequestError]] = [httpx.RequestError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


@pytest.mark.parametrize("exc_class", _httpx_request_errors(), ids=lambda c: c.__name__)
async def test_every_httpx_request_error_becomes_a_pleo_error(
    httpx_mock: HTTPXMock, exc_class: type[httpx.RequestError]
) -> None:
    """No httpx RequestError escapes the seam unmapped; timeouts are APITimeoutError."""
    httpx_mock.add_exception(exc_class("simulated"), is_reusable=True)
    async with PleoExport(api_key="k", base_url=BASE_URL, retry=RetryPolicy(max_retries=1)) as pleo:
        with pytest.raises(APIConnectionError) as caught:
            await pleo.jobs.get(JOB_ID)
    expected = APITimeoutError if issubclass(exc_class, httpx.TimeoutException) else None
    if expected is not None:
        assert isinstance(caught.value, expected)
    assert isinstance(caught.value.__cause__, exc_class)
    assert exc_class.__name__ in str(caught.value)


def test_every_error_class_is_a_documented_pleo_error() -> None:
    """Each public exception derives from PleoError, ends in Error and has a docstring."""
    classes = [
        getattr(pleo_export, name)
        for name in pleo_export.__all__
        if inspect.isclass(getattr(pleo_export, name))
        and issubclass(getattr(pleo_export, name), BaseException)
    ]
    assert len(classes) >= 20
    for cls in classes:
        assert issubclass(cls, PleoError), cls
        assert cls.__name__.endswith("Error"), cls
        assert cls.__doc__, cls


def test_argument_errors_are_also_value_errors() -> None:
    """InvalidArgumentError and InvalidTransitionError can be caught as ValueError."""
    assert issubclass(pleo_export.InvalidArgumentError, ValueError)
    assert issubclass(pleo_export.InvalidTransitionError, ValueError)
    error = pleo_export.InvalidArgumentError("limit", "must be >= 1")
    assert error.argument == "limit"
    assert str(error) == "limit: must be >= 1"


def test_invalid_transition_error_explains_the_allowed_events() -> None:
    """InvalidTransitionError names the job, its status, the event and what is allowed."""
    error = pleo_export.InvalidTransitionError("j1", "pending", "completed", ("started",))
    assert "job j1 is 'pending'" in str(error)
    assert "allowed: started" in str(error)
    final = pleo_export.InvalidTransitionError("j1", "completed", "started", ())
    assert "the job is final" in str(final)


def test_invalid_status_change_error_has_actual_status() -> None:
    """InvalidStatusChangeError carries ``actual_status`` (None until the SDK re-reads a job)."""
    error = status_error(
        _response(422, {"type": "INVALID_EXPORT_JOB_STATUS_CHANGE"}), method="POST", path="/p"
    )
    assert isinstance(error, InvalidStatusChangeError)
    assert error.actual_status is None


def test_the_docstring_tree_names_every_public_error() -> None:
    """Each ``PleoError`` subclass ``pleo_export`` or ``pleo_export.webhooks`` exports is drawn
    in ``_errors``' docstring tree; an error class added without its line fails here."""
    import pleo_export.webhooks
    from pleo_export import _errors

    exported = [
        getattr(module, name)
        for module in (pleo_export, pleo_export.webhooks)
        for name in module.__all__
    ]
    errors = {c.__name__ for c in exported if isinstance(c, type) and issubclass(c, PleoError)}
    assert errors
    assert _errors.__doc__ is not None
    drawn = {name for name in errors if f"── {name} " in _errors.__doc__}
    assert errors - drawn == {"PleoError"}  # the root, drawn bare at the top
