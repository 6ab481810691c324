"""Shared fixtures for the unit tests: retries in stamina's test mode (no backoff), a clean
environment, a client pointed at a loopback URL that pytest-httpx intercepts, and JSON payloads
in Pleo's shapes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
import stamina

from pleo_export import PleoExport

#: Never reached: pytest-httpx answers in-process; were it bypassed, port 9 on loopback refuses.
BASE_URL = "http://127.0.0.1:9"
API_KEY = "sk-unit-test-0123456789abcdef"
COMPANY_ID = "6f1c2f0e-9a55-4c3e-8a51-0c2f3f4a5b6c"


#: Above any policy a test sets: with ``cap=True`` each policy's own attempt count applies.
RETRY_ATTEMPTS_CAP = 100


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    """stamina's test mode: retries keep the policy's attempt count but wait nothing."""
    with stamina.set_testing(True, attempts=RETRY_ATTEMPTS_CAP, cap=True):
        yield


@pytest.fixture
def real_backoff(_no_backoff: None) -> Iterator[None]:
    """stamina's test mode off (its public switch), for the few tests that time the backoff
    schedule itself; they use policies of a few tens of milliseconds. (Test mode zeroes every
    wait, and stamina has no public hook that reports a wait without sleeping it.)"""
    with stamina.set_testing(False):
        yield


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own PLEO_* variables out of every test."""
    for name in ("PLEO_API_KEY", "PLEO_BEARER_TOKEN", "PLEO_ENVIRONMENT", "PLEO_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def pleo() -> AsyncIterator[PleoExport]:
    """A client with an API key on the loopback base URL, closed after the test."""
    async with PleoExport(api_key=API_KEY, base_url=BASE_URL) as client:
        yield client


class Payloads:
    """Builds response bodies in the shapes Pleo's spec gives them."""

    base_url = BASE_URL
    company_id = COMPANY_ID

    @staticmethod
    def job(job_id: str | None = None, *, status: str = "pending", **extra: Any) -> dict[str, Any]:
        """An ExportJobV3 (also a valid v2 ExportJob)."""
        return {
            "id": job_id or str(uuid.uuid4()),
            "companyId": COMPANY_ID,
            "createdAt": "2024-05-01T10:00:00Z",
            "expiresIn": 3600,
            "isInteractive": True,
            "numberOfItems": 2,
            "status": status,
            "vendorBasedBookkeeping": False,
            **extra,
        }

    @staticmethod
    def item(
        job_id: str, entry_id: str | None = None, *, status: str = "pending"
    ) -> dict[str, Any]:
        """An ExportJobItemV3."""
        return {
            "accountingEntryId": entry_id or str(uuid.uuid4()),
            "exportJobId": job_id,
            "status": status,
        }

    @staticmethod
    def page(
        data: Sequence[Any],
        *,
        has_next: bool = False,
        has_previous: bool = False,
        start: str | None = None,
        end: str | None = None,
        total: int | None = None,
    ) -> dict[str, Any]:
        """A CursorPaginatedResponse envelope around ``data``."""
        info: dict[str, Any] = {
            "currentRequestPagination": {"parameters": {}},
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
        }
        if start is not None:
            info["startCursor"] = start
        if end is not None:
            info["endCursor"] = end
        if total is not None:
            info["total"] = total
        return {"data": list(data), "pagination": info}

    @staticmethod
    def url(path: str) -> str:
        """The absolute URL of an API path on the test base URL."""
        return BASE_URL + path

    @staticmethod
    def cursor(number: int) -> str:
        """A syntactically valid Pleo cursor (base32 alphabet) for page ``number``."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        text = ""
        while True:
            number, digit = divmod(number, 32)
            text = alphabet[digit] + text
            if number == 0:
                return "C" + text


@pytest.fixture
def payloads() -> Payloads:
    """The response-body builders."""
    return Payloads()
