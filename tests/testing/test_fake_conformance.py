"""The fake conforms to the Export API contract: schemathesis drives every v2/v3 operation over TCP.

Responses must match their documented schemas, content types and status codes. Generated ids
are pointed at seeded jobs for three cases in four, so 200 answers with real bodies get checked
too, not only 404s. Bounded and derandomized so the run is repeatable and takes seconds.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import _fake_spec
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pleo_export.testing import FakePleo

schema = schemathesis.openapi.from_dict(_fake_spec.patched_spec()).include(
    operation_id=list(_fake_spec.OPERATIONS)
)
_AUTH = {"Authorization": "Basic " + base64.b64encode(b"pleo-test-key:").decode()}
_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]


@dataclass(frozen=True)
class _Seeded:
    """The fake's URL and the ids of its seeded jobs and entries."""

    url: str
    jobs: tuple[str, ...]
    entries: tuple[str, ...]
    companies: tuple[str, ...]


@pytest.fixture(scope="module")
def seeded() -> Iterator[_Seeded]:
    """A fake with a running, a pending and a finished job, served over TCP for the module."""
    fake = FakePleo(seed=21)
    vendor_co, plain_co, done_co = (fake.add_company(country=c) for c in ("GB", "DK", "SE"))
    jobs = (
        fake.add_job(vendor_co, items=40, status="in_progress", vendor_based_bookkeeping=True),
        fake.add_job(plain_co, items=40),
        fake.add_job(done_co, items=5, status="completed_with_errors"),
    )
    entries = tuple(fake.accounting_entry_ids(job)[3] for job in jobs)
    with fake.serve() as url:
        yield _Seeded(url, jobs, entries, (vendor_co, plain_co, done_co))


def _aim(case: Any, seeded: _Seeded) -> None:
    """Point three cases in four at a seeded job, chosen from the case's own content."""
    pick = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode()) % 4
    if pick == 3:
        return
    query = case.query if isinstance(case.query, dict) else None
    if case.path_parameters and "jobId" in case.path_parameters:
        case.path_parameters["jobId"] = seeded.jobs[pick]
    if query is not None and "job_id" in query:
        query["job_id"] = seeded.jobs[pick]
    if query is not None and "accounting_entry_id" in query:
        query["accounting_entry_id"] = seeded.entries[pick]
        if "company_id" in query:
            query["company_id"] = seeded.companies[pick]


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_fake_conforms_to_the_contract(case: Any, seeded: _Seeded) -> None:
    """Every answer has a documented status, content type and schema, and needs credentials."""
    _aim(case, seeded)
    case.call_and_validate(base_url=seeded.url, headers=_AUTH, checks=_CHECKS, timeout=10)


def test_the_vendored_spec_already_holds_every_gap_the_fake_needs() -> None:
    """The overlay has adopted each patch listed here, so the fake is held to the vendored
    contract itself: every extra status, nullable field and dropped display pattern."""
    vendored = _fake_spec.VENDORED
    spec = yaml.safe_load(vendored.read_text())
    operations = {
        op["operationId"]: op
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    missing = [
        (op, status)
        for op, status, _ in _fake_spec.STATUS_GAPS
        if status not in operations[op]["responses"]
    ]
    assert missing == []
    schemas = spec["components"]["schemas"]
    gaps = _fake_spec.NULLABLE_GAPS
    assert all(schemas[name]["properties"][field].get("nullable") for name, field in gaps)
    text = vendored.read_text()
    assert not [p for p in _fake_spec._BOGUS_PATTERNS if f"pattern: {p}" in text]
