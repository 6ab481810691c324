"""Secrets: the API key and bearer tokens appear in no log line, repr, error message or traceback.

The client runs at DEBUG (every logger) against the fake over loopback TCP while faults make
requests retry and fail; then every captured record, every repr and every formatted exception
chain is searched for each secret in every form it travels in (raw, base64, header value).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pleo_export import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidArgumentError,
    PleoError,
    PleoExport,
    RetryPolicy,
    ServerError,
)
from pleo_export.testing import FakePleo

from ._figures import record
from .conftest import EXAMPLES

pytestmark = pytest.mark.timeout(60)

API_KEY = "sk-live-" + secrets.token_hex(16)
WRONG_KEY = "sk-live-" + secrets.token_hex(16)
TOKEN = "oat-" + secrets.token_urlsafe(24)
RETRY = RetryPolicy(max_retries=1, wait_initial=0.001, wait_max=0.002, retry_after_max=0.002)


def secret_forms(*values: str) -> dict[str, str]:
    """Every form a credential travels in: raw, Basic's base64 of ``key:``, the header values."""
    forms: dict[str, str] = {}
    for value in values:
        basic = base64.b64encode(f"{value}:".encode()).decode()
        forms[value] = value
        forms[basic] = value
        forms[f"Basic {basic}"] = value
        forms[f"Bearer {value}"] = value
        forms[value[4:-4]] = value  # a cut-down copy still leaks the secret
    return forms


def find_secrets(texts: Iterable[str], forms: dict[str, str]) -> list[str]:
    """The forms found in any of ``texts`` (empty means clean)."""
    return sorted({form for text in texts for form in forms if form in text})


class Everything(logging.Handler):
    """Keeps every record of every logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Format and keep one record."""
        self.lines.append(self.format(record))
        self.lines.append(repr(vars(record)))  # args and extras, e.g. stamina's retry details


@pytest.fixture
def debug_logs() -> Iterator[Everything]:
    """Every logger at DEBUG, captured for the test."""
    handler = Everything()
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    names = ("pleo_export", "httpx", "httpcore", "uvicorn", "hpack")
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _error_texts(exc: BaseException) -> list[str]:
    """str, repr, attributes and the full formatted chain (with locals) of an error."""
    texts = [str(exc), repr(exc), repr(vars(exc)), "".join(traceback.format_exception(exc))]
    texts.append("".join(traceback.TracebackException.from_exception(exc).format()))
    cause: BaseException | None = exc
    while cause is not None:
        texts += [str(cause), repr(cause), repr(getattr(cause, "request", None))]
        cause = cause.__cause__ or cause.__context__
    return texts


Make = Callable[[float], PleoExport]
#: Fault → the error it must end in. The delay outlasts the short read timeout of the client
#: made for that case; every other case runs on a client with a generous timeout.
FAILURES: list[tuple[dict[str, Any], type[PleoError]]] = [
    ({"kind": "status", "status": 503}, ServerError),
    ({"kind": "status", "status": 502, "html": True}, ServerError),
    ({"kind": "drop"}, APIConnectionError),
    ({"kind": "lost_response"}, APIConnectionError),
    ({"kind": "delay", "seconds": 0.5}, APITimeoutError),
]


async def _failures(make: Make, fake: FakePleo, job: str) -> list[PleoError]:
    """Drive clients into each kind of failure mid-request and collect the errors."""
    errors: list[PleoError] = []
    update = [{"accountingEntryId": fake.accounting_entry_ids(job)[0], "status": "successful"}]
    for rule_args, expected in FAILURES:
        rule = fake.faults.add(**rule_args)
        try:
            async with make(0.2 if expected is APITimeoutError else 10.0) as pleo:
                with pytest.raises(expected) as caught:
                    await pleo.jobs.get(job)
                errors.append(caught.value)
                with pytest.raises(expected) as caught:
                    await pleo.job_items.update(job, update)
                errors.append(caught.value)
        finally:
            fake.faults.remove(rule)
    return errors


async def test_no_secret_in_logs_reprs_or_errors(debug_logs: Everything) -> None:
    """At DEBUG, through retries and every failure kind, no form of a credential is ever shown."""
    fake = FakePleo(seed=11, api_keys=[API_KEY], bearer_tokens=[TOKEN])
    job = fake.add_job(items=5, status="in_progress")
    texts: list[str] = []
    errors: list[PleoError] = []
    credentials: list[dict[str, Any]] = [
        {"api_key": API_KEY},
        {"bearer_token": TOKEN},
        {"bearer_token": lambda: TOKEN},
    ]
    with fake.serve() as url:
        for credential in credentials:

            def make(read: float, credential: dict[str, Any] = credential) -> PleoExport:
                timeout = httpx.Timeout(read, connect=5.0)
                return PleoExport(base_url=url, retry=RETRY, timeout=timeout, **credential)

            async with make(10.0) as pleo:
                texts += [
                    repr(pleo),
                    repr(pleo._shared.auth),
                    repr(pleo.http_client),
                    repr(pleo.raw),
                ]
                await pleo.jobs.get(job)
                async for item in pleo.job_items.list(job, limit=2):
                    texts.append(repr(item))
            errors += await _failures(make, fake, job)
        for wrong in (
            PleoExport(api_key=WRONG_KEY, base_url=url, retry=RETRY),
            PleoExport(bearer_token=WRONG_KEY, base_url=url, retry=RETRY),
        ):
            async with wrong:
                with pytest.raises(AuthenticationError) as caught:
                    await wrong.jobs.get(job)
                errors.append(caught.value)
    for error in errors:
        texts += _error_texts(error)
    texts += debug_logs.lines
    forms = secret_forms(API_KEY, WRONG_KEY, TOKEN)
    leaked = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert find_secrets([f"Authorization: Basic {leaked}"], forms)  # the search does find leaks
    found = find_secrets(texts, forms)
    assert found == []
    assert any("retrying" in line for line in debug_logs.lines)  # the retries were logged
    assert len(errors) == 3 * 10 + 2
    record(
        "secrets",
        in_process_texts_searched=len(texts),
        in_process_errors_formatted=len(errors),
        in_process_secrets_found=len(found),
    )


async def test_request_headers_repr_masks_authorization() -> None:
    """A request the SDK built shows ``[secure]``, not the credential, in its headers' repr."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with PleoExport(
        api_key=API_KEY, base_url="http://127.0.0.1", http_client=http, retry=RETRY
    ) as pleo:
        with pytest.raises(ServerError) as caught:
            await pleo.jobs.get("00000000-0000-0000-0000-000000000001")
    await http.aclose()
    texts = [repr(request.headers) for request in seen] + _error_texts(caught.value)
    assert find_secrets(texts, secret_forms(API_KEY)) == []
    assert all("[secure]" in repr(request.headers) for request in seen)


@pytest.mark.parametrize(
    "url",
    [
        "http://external.pleo.io",
        "http://10.0.0.5:8080",
        "http://localhost.attacker.example",
        "http://127.0.0.1.nip.io",
        "http://[2001:db8::1]",
    ],
)
def test_plain_http_to_other_hosts_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials never go in clear text off the machine unless the caller explicitly allows it."""
    with pytest.raises(InvalidArgumentError) as caught:
        PleoExport(api_key=API_KEY, base_url=url)
    assert caught.value.argument == "base_url"
    assert API_KEY not in str(caught.value)
    monkeypatch.setenv("PLEO_BASE_URL", url)
    with pytest.raises(InvalidArgumentError):
        PleoExport(api_key=API_KEY)
    PleoExport(api_key=API_KEY, base_url=url, allow_insecure_http=True)  # the explicit opt-in


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://pleo.example"]
)
def test_loopback_and_https_are_allowed(url: str) -> None:
    """Plain http to this machine (the fake) and any https URL are accepted."""
    assert PleoExport(api_key=API_KEY, base_url=url).base_url == url


@pytest.mark.parametrize("status", [400, 401, 403, 502])
@pytest.mark.parametrize("auth", ["api_key", "bearer_token"])
async def test_error_bodies_echoing_credentials_are_masked(status: int, auth: str) -> None:
    """A proxy or debug page that echoes the Authorization header does not leak it into errors."""

    def echo(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        credential = header.split(" ", 1)[1]
        decoded = base64.b64decode(credential).decode() if header.startswith("Basic") else ""
        body = f"denied: Authorization={header} cred={credential} user={decoded}"
        return httpx.Response(status, text=body)

    secret = API_KEY if auth == "api_key" else TOKEN
    http = httpx.AsyncClient(transport=httpx.MockTransport(echo))
    async with PleoExport(
        base_url="http://127.0.0.1", http_client=http, retry=RetryPolicy(max_retries=0),
        **{auth: secret},
    ) as pleo:  # fmt: skip
        with pytest.raises(PleoError) as caught:
            await pleo.jobs.get("00000000-0000-0000-0000-000000000001")
    await http.aclose()
    assert find_secrets(_error_texts(caught.value), secret_forms(secret)) == []
    assert "[secure]" in str(caught.value)
    ECHOES.append(status)
    record("secrets", echoing_error_bodies_tried=len(ECHOES), echoed_secrets_shown=0)


ECHOES: list[int] = []


def _demo_at_debug(url: str, ledger: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the demo at DEBUG against ``url``; return its exit status and everything it printed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "export_to_ledger.py"), "--base-url", url, "--once",
         "--ledger", str(ledger), "--log-level", "DEBUG", *args],
        env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_demo_at_debug_never_prints_a_secret(tmp_path: Path) -> None:
    """A full demo run at DEBUG, with faults, prints no form of the key or the token."""
    fake = FakePleo(seed=12, api_keys=[API_KEY], bearer_tokens=[TOKEN])
    for _ in range(2):
        fake.add_job(items=60)
    # A few of each, with Retry-After: 0 where the fault allows it, so the retries cost no time.
    fake.faults.add("status", status=503, rate=0.1, times=4, retry_after=0)
    fake.faults.add("rate_limit", rate=0.1, times=4, retry_after=0)
    fake.faults.add("status", status=502, html=True, rate=0.1, times=2, retry_after=0)
    fake.faults.add("drop", rate=0.1, times=1)
    with fake.serve() as url:
        key_run = _demo_at_debug(url, tmp_path / "a.sqlite", {}, "--api-key", API_KEY)
        fake.add_job(items=60)
        token_run = _demo_at_debug(url, tmp_path / "b.sqlite", {"PLEO_BEARER_TOKEN": TOKEN})
        wrong_run = _demo_at_debug(url, tmp_path / "c.sqlite", {}, "--api-key", WRONG_KEY)
    assert key_run[0] == 0, key_run[1]
    assert token_run[0] == 0, token_run[1]
    assert wrong_run[0] == 3, wrong_run[1]  # refused credentials
    outputs = [key_run[1], token_run[1], wrong_run[1]]
    assert all(" DEBUG " in out for out in outputs[:2])  # DEBUG logging was on
    assert any("retrying" in out for out in outputs)  # and faults made it retry
    found = find_secrets(outputs, secret_forms(API_KEY, WRONG_KEY, TOKEN))
    assert found == []
    record(
        "secrets",
        demo_runs_at_debug=len(outputs),
        demo_output_lines=sum(out.count("\n") for out in outputs),
        demo_secrets_found=len(found),
    )
