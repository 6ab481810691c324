"""The plain value types orchestration passes around."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from pleo_export._outcome import ItemOutcome, OutcomeStatus


def test_outcome_record_round_trips_through_json() -> None:
    """An outcome written with to_record and read back with from_record is equal.

    Fails if a field is dropped or a datetime loses its zone on the way through JSON.
    """
    outcome = ItemOutcome(
        accounting_entry_id=uuid.uuid4(),
        status=OutcomeStatus.SUCCESSFUL,
        external_id="V-1",
        external_url="https://erp.example/V-1",
        exported_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert ItemOutcome.from_record(json.loads(json.dumps(outcome.to_record()))) == outcome


def test_failed_outcome_record_keeps_reason_and_type() -> None:
    """A failed outcome keeps its reason and type; fails if either is lost."""
    outcome = ItemOutcome(
        accounting_entry_id=uuid.uuid4(),
        status=OutcomeStatus.FAILED,
        failure_reason="vendor missing",
        failure_reason_type="vendor_unknown",
    )
    again = ItemOutcome.from_record(outcome.to_record())
    assert (again.failure_reason, again.failure_reason_type) == ("vendor missing", "vendor_unknown")
    assert again.status is OutcomeStatus.FAILED
