"""Request bodies and enums both API versions share: job creation, lifecycle events, sort order,
each version's item update model built from an ``ItemOutcome``, and the one PUT of a batch of
item updates (``send_updates``)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from pleo_export_raw.models import (
    CreateExportJob,
    CreateExportJobEvent,
    ExportJobEventType,
    ExportJobFailureReasonType,
    Options,
    PageOrder,
)
from pleo_export_raw.types import UNSET, Unset

from .._errors import InvalidArgumentError
from .._outcome import ItemOutcome
from .._unknown_fields import note_unknowns
from .._validation import check_enum
from ._adapter import Endpoint
from ._sender import Sender

__all__ = [
    "check_job_failure_type",
    "coerce_update",
    "create_body",
    "event_body",
    "or_unset",
    "page_orders",
    "send_updates",
    "update_builders",
    "update_from",
]

T = TypeVar("T")
_UPDATE_FIELDS = (
    "accountingEntryId, status, exportedAt, externalId, externalUrl, failureReason, "
    "failureReasonType"
)


def or_unset(value: T | None) -> T | Unset:
    """None as the generated models' ``UNSET`` (the field is left out of the JSON)."""
    return UNSET if value is None else value


def page_orders(values: Sequence[str]) -> list[PageOrder]:
    """Sort directions as ``PageOrder`` members.

    Raises:
        InvalidArgumentError: a value other than ``ASC``/``DESC``.
    """
    return [check_enum(order, PageOrder, "sorting_order") for order in values]


def check_job_failure_type(value: str) -> ExportJobFailureReasonType:
    """A job-level failure type (the same 15 values on v3 and v2).

    Raises:
        InvalidArgumentError: an unknown value given as a plain string.
    """
    return check_enum(value, ExportJobFailureReasonType, "reason_type")


def event_body(
    job_id: uuid.UUID,
    event: str,
    *,
    failure_reason: str | None,
    failure_reason_type: str | None,
) -> CreateExportJobEvent:
    """The body of a lifecycle event (the same on v3 and v2).

    Raises:
        InvalidArgumentError: an unknown event or failure reason type.
    """
    return CreateExportJobEvent(
        job_id=job_id,
        event=check_enum(event, ExportJobEventType, "event"),
        failure_reason=or_unset(failure_reason),
        failure_reason_type=UNSET
        if failure_reason_type is None
        else check_enum(failure_reason_type, ExportJobFailureReasonType, "failure_reason_type"),
    )


def create_body(
    *,
    company_id: uuid.UUID,
    accounting_entry_ids: list[uuid.UUID],
    employee_id: uuid.UUID | None,
    is_interactive: bool | None,
    vendor_based_bookkeeping: bool | None,
) -> CreateExportJob:
    """The body that creates an export job (the same on v3 and v2)."""
    return CreateExportJob(
        company_id=company_id,
        accounting_entry_ids=accounting_entry_ids,
        employee_id=or_unset(employee_id),
        is_interactive=or_unset(is_interactive),
        options=UNSET
        if vendor_based_bookkeeping is None
        else Options(vendor_based_bookkeeping=vendor_based_bookkeeping),
    )


def update_from(
    outcome: ItemOutcome,
    *,
    model: Callable[..., T],
    status: type[StrEnum],
    failure_types: type[StrEnum],
) -> T:
    """``outcome`` as a version's item update ``model``, with that version's ``status`` and
    ``failure_types`` enums (each adapter binds its own with ``functools.partial``)."""
    failure = outcome.failure_reason_type
    return model(
        accounting_entry_id=outcome.accounting_entry_id,
        status=status(outcome.status.value),
        exported_at=or_unset(outcome.exported_at),
        external_id=or_unset(outcome.external_id),
        external_url=or_unset(outcome.external_url),
        failure_reason=or_unset(outcome.failure_reason),
        failure_reason_type=UNSET if failure is None else failure_types(failure),
    )


def coerce_update(
    update: object,
    index: int,
    model: type[T],
    *,
    status: type[StrEnum],
    failure_types: type[StrEnum],
) -> T:
    """A caller's update, a ``model`` or a dict in the API's JSON shape, as a ``model``.

    Raises:
        InvalidArgumentError: anything else, a dict that does not parse, an unknown key (a typo
            such as ``"externalID"`` that Pleo would drop) or an unknown enum string.
    """
    where = f"updates[{index}]"
    if isinstance(update, model):
        return update
    if not isinstance(update, Mapping):
        raise InvalidArgumentError(
            where, f"expected {model.__name__} or a dict, got {type(update).__name__}"
        )
    try:
        parsed: T = model.from_dict(dict(update))  # type: ignore[attr-defined]  # every generated model has it
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidArgumentError(where, f"not a valid job item update: {exc!r}") from None
    # from_dict keeps unknown keys and unknown enum strings; from a dict they are typos
    # (``"succesful"``, ``"externalID"``) that Pleo would reject or silently drop.
    extra = getattr(parsed, "additional_properties", {})
    if extra:
        raise InvalidArgumentError(
            where, f"unknown field(s) {sorted(extra)}; the API's names are {_UPDATE_FIELDS}"
        )
    for key, enum in (("status", status), ("failureReasonType", failure_types)):
        if isinstance(update.get(key), str):
            check_enum(update[key], enum, f"{where}.{key}")
    return parsed


def update_builders(
    model: type[T], *, status: type[StrEnum], failure_types: type[StrEnum]
) -> tuple[Callable[[ItemOutcome], T], Callable[[object, int], T]]:
    """A version's ``Adapter.update_from`` and ``Adapter.coerce_update``: ``update_from`` and
    ``coerce_update`` bound to its update ``model`` and its ``status``/``failure_types`` enums."""
    return (
        functools.partial(update_from, model=model, status=status, failure_types=failure_types),
        functools.partial(coerce_update, model=model, status=status, failure_types=failure_types),
    )


async def send_updates(
    sender: Sender, endpoint: Endpoint, job_id: uuid.UUID, body: Sequence[object]
) -> Any:
    """PUT one batch of at most 100 item update models (``body``, already this version's
    models) to ``endpoint``, a version's ``update_job_items``: the answer parsed into its model
    and checked for unknown fields. Callers check the batch; nothing is re-checked here."""
    result = await sender.call(endpoint.request(job_id, body=body), endpoint.model)
    note_unknowns(result, where="ExportJobItemUpdate")
    return result
