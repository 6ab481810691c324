"""Hostile bodies that break parsers rather than schemas: JSON nested 100,000 deep (``[[[[…``)
under a 2xx or an error status, with orjson and with the standard library's parser. Each is a
typed error (``ResponseValidationError`` for a 2xx, the status error with a snippet otherwise),
and a worker whose job listing gets one keeps running and exports the job once it clears.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import httpx
import pytest

from pleo_export import (
    APIStatusError,
    Booked,
    ExportWorker,
    PleoError,
    PleoExport,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
)
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record
from .conftest import FAST_RETRY

pytestmark = pytest.mark.timeout(60)

DEPTH = 100_000
NESTED = b"[" * DEPTH + b"]" * DEPTH
NESTED_OBJECT = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
JOB = "00000000-0000-4000-8000-000000000001"


async def _get(status: int, body: bytes) -> PleoError:
    """What ``jobs.get`` raises when the server answers ``status`` with ``body``."""
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    )
    async with PleoExport(
        api_key="sk-parse-0123456789", base_url="http://127.0.0.1", http_client=http,
        retry=RetryPolicy(max_retries=0),
    ) as pleo:  # fmt: skip
        with pytest.raises(PleoError) as caught:
            await pleo.jobs.get(JOB)
    await http.aclose()
    return caught.value


@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["array", "object"])
async def test_nested_2xx_is_a_response_validation_error(body: bytes) -> None:
    """A 200 nested deeper than any stack is a ResponseValidationError with a short snippet,
    not a RecursionError."""
    error = await _get(200, body)
    assert type(error) is ResponseValidationError
    assert len(str(error)) < 1_000


@pytest.mark.parametrize("status", [400, 404, 422, 500, 502])
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["array", "object"])
async def test_nested_error_body_is_the_status_error(status: int, body: bytes) -> None:
    """Under an error status the nested body still gives that status's error, with a snippet
    of the body and no ``type``/``message`` read from it."""
    error = await _get(status, body)
    assert getattr(error, "status_code", None) == status, repr(error)
    assert isinstance(error, ServerError | APIStatusError)
    assert error.body_snippet[:4] in ("[[[[", '{"a"')
    assert error.type is None


def test_nested_2xx_without_orjson_is_typed() -> None:
    """Without the [fast] extra the standard library parses, and its RecursionError is mapped
    too; the child process blocks orjson's import to be sure which parser ran."""
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.modules["orjson"] = None  # the import fails: the json fallback is used
        import httpx
        from pleo_export import PleoExport, RetryPolicy
        from pleo_export import _wire

        async def main():
            assert _wire.json_loads.__module__ == "json", _wire.json_loads
            body = b"[" * {DEPTH} + b"]" * {DEPTH}
            http = httpx.AsyncClient(transport=httpx.MockTransport(
                lambda request: httpx.Response(200, content=body)))
            async with PleoExport(api_key="sk-parse-0123456789", base_url="http://127.0.0.1",
                                  http_client=http, retry=RetryPolicy(max_retries=0)) as pleo:
                try:
                    await pleo.jobs.get("{JOB}")
                except Exception as exc:
                    print(type(exc).__name__)

        asyncio.run(main())
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ResponseValidationError"
    record(
        "hostile_servers",
        **{
            "JSON nested 100,000 deep": "ResponseValidationError on a 2xx (with or without "
            "orjson), the status error with a snippet otherwise"
        },
    )


class NestedListings(httpx.AsyncBaseTransport):
    """The fake in-process, except that the first ``bad`` job listings answer a nested 502."""

    def __init__(self, fake: FakePleo, bad: int) -> None:
        self._inner = fake.transport()
        self.bad = bad
        self.served_bad = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer nested 502s to the first listings, then let the fake answer."""
        if request.url.path == "/v3/export-jobs" and self.served_bad < self.bad:
            self.served_bad += 1
            return httpx.Response(502, content=NESTED)
        return await self._inner.handle_async_request(request)


async def test_worker_survives_a_nested_listing_and_exports_the_job() -> None:
    """A worker whose listing answers nested 502s (retries exhausted, twice) logs, polls
    again and exports the job once the listing clears; before, run() ended with an
    ExceptionGroup and left the job pending."""
    fake = FakePleo(seed=14)
    job = fake.add_job(items=3)
    transport = NestedListings(fake, bad=2 * (FAST_RETRY.max_retries + 1))
    http = httpx.AsyncClient(transport=transport)
    async with PleoExport(
        api_key=DEFAULT_API_KEY, base_url="http://127.0.0.1", http_client=http, retry=FAST_RETRY,
    ) as pleo:  # fmt: skip
        worker = ExportWorker(pleo, lambda item: Booked("GL-1"), poll_interval=0.01)
        task = asyncio.create_task(worker.run())
        for _ in range(500):
            if fake.job(job)["status"] == "completed":
                break
            await asyncio.sleep(0.01)
        worker.stop()
        await asyncio.wait_for(task, 10)
    await http.aclose()
    assert transport.served_bad == transport.bad
    assert fake.job(job)["status"] == "completed"
    assert worker.stats.items_booked == 3
    record(
        "hostile_servers",
        **{
            "nested 502 on the worker's job listing": f"{transport.bad} listings failed, each "
            "logged; the worker went on and completed the job"
        },
    )


@pytest.mark.parametrize("prefetch", [0, 1])
async def test_nested_page_is_typed_in_a_listing(prefetch: int) -> None:
    """A list call whose page is nested JSON raises ResponseValidationError from the iterator,
    with or without the prefetch task, not a RecursionError."""
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=NESTED_OBJECT))
    )
    async with PleoExport(
        api_key="sk-parse-0123456789", base_url="http://127.0.0.1", http_client=http,
        retry=RetryPolicy(max_retries=0), prefetch=prefetch,
    ) as pleo:  # fmt: skip
        with pytest.raises(ResponseValidationError):
            _ = [job async for job in pleo.jobs.list()]
    await http.aclose()
