"""Shared helpers of the reliability suite: a fast retry policy, clients on the fake, retry counts.

Every wait is scaled down through configuration (``RetryPolicy``, short timeouts), never by
patching sleeps or weakening a check.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from pleo_export import PleoExport, RetryPolicy
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import FIGURES_PATH, record

#: Backoff of a few milliseconds; a Retry-After of any length is cut to 5 ms.
FAST_RETRY = RetryPolicy(
    max_retries=8, wait_initial=0.001, wait_max=0.005, wait_jitter=0.001, retry_after_max=0.005
)
BASE_URL = "http://127.0.0.1"


def client_on(fake: FakePleo, **options: Any) -> PleoExport:
    """A ``PleoExport`` on ``fake`` in-process, with the fast retry policy unless given."""
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_key", DEFAULT_API_KEY)
    http = httpx.AsyncClient(transport=fake.transport())
    return PleoExport(base_url=BASE_URL, http_client=http, **options)


class RetryLog(logging.Handler):
    """Counts the retries the SDK logs (INFO ``retrying …`` on logger ``pleo_export``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        """Count one retry record by its reason (the status code or the httpx error)."""
        message = record.getMessage()
        if message.startswith("retrying "):
            self.reasons[message.rsplit(" after ", 1)[-1].split(" (")[0]] += 1

    @property
    def total(self) -> int:
        """All retries counted."""
        return sum(self.reasons.values())


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    """A ``RetryLog`` attached to the ``pleo_export`` logger for the test."""
    handler = RetryLog()
    logger = logging.getLogger("pleo_export")
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


@pytest.fixture(scope="session", autouse=True)
def _fresh_figures() -> Iterator[None]:
    """Start each session's figures afresh, so RELIABILITY.md never mixes runs; time the suite."""
    FIGURES_PATH.unlink(missing_ok=True)
    began = time.perf_counter()
    yield
    record("run", suite_wall_time_s=round(time.perf_counter() - began, 1), known_gaps=KNOWN_GAPS)


#: Tests expected to fail (xfail) in this run → why: what the SDK does not do yet.
KNOWN_GAPS: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the reliability tests that failed as expected, with their reasons."""
    if report.when == "call" and report.skipped and hasattr(report, "wasxfail"):
        KNOWN_GAPS[report.nodeid.split("::", 1)[-1]] = report.wasxfail


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (the demo's ledger, say) as a module."""
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
