"""Request bodies and enums both API versions share: job creation, lifecycle events, sort order,
and the generated client behind ``PleoExport.raw``."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

import httpx
from pleo_export_raw import Client as GeneratedClient
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
from .._validation import check_enum
from ._seam import RawTransport, Seam

__all__ = [
    "GeneratedClient",
    "coerce_update",
    "create_body",
    "event_body",
    "generated_client",
    "job_failure_type",
    "or_unset",
    "page_orders",
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


def job_failure_type(value: str) -> ExportJobFailureReasonType:
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


def generated_client(seam: Seam, base_url: str) -> GeneratedClient:
    """The generated client, sending through ``seam`` (see ``RawTransport``)."""
    front = httpx.AsyncClient(base_url=base_url, transport=RawTransport(seam))
    return GeneratedClient(
        base_url=base_url, raise_on_unexpected_status=True
    ).set_async_httpx_client(front)
