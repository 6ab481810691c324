"""Caller input checked before any request: ids, enum values, batch sizes, paging arguments.

Each check raises ``InvalidArgumentError`` naming the argument. Values are only normalised
(a string id becomes a UUID, a string enum value its member); nothing is guessed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

from ._config import BATCH_LIMIT
from ._errors import InvalidArgumentError

__all__ = ["check_batch", "check_enum", "check_paging", "check_sorting", "check_uuid"]

E = TypeVar("E", bound=StrEnum)


def check_uuid(value: object, argument: str) -> uuid.UUID:
    """Return ``value`` as a UUID, or raise naming ``argument``."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidArgumentError(argument, f"expected a UUID, got {value!r}")


def check_enum(value: object, enum: type[E], argument: str) -> E:
    """Return ``value`` as a member of ``enum``.

    A plain string must be a value the spec lists. To send a value Pleo added after this SDK's
    spec version, pass the enum itself: ``ExportJobStatus("archived")`` is taken as deliberate.
    """
    if isinstance(value, enum):
        return value
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    known = ", ".join(member.value for member in enum)
    raise InvalidArgumentError(
        argument,
        f"unknown value {value!r} (known: {known}; pass {enum.__name__}({value!r}) "
        "to send a new one on purpose)",
    )


def check_batch(size: int, argument: str = "updates") -> None:
    """Refuse an empty batch or one over Pleo's 100-item limit."""
    if size == 0:
        raise InvalidArgumentError(argument, "no items to update")
    if size > BATCH_LIMIT:
        raise InvalidArgumentError(
            argument,
            f"{size} items in one batch; Pleo accepts at most {BATCH_LIMIT} "
            "(use job_items.update_all() to send any number in batches)",
        )


def check_sorting(keys: Sequence[str] | None, orders: Sequence[object] | None) -> None:
    """``sorting_keys`` and ``sorting_order`` must come together, of equal lengths."""
    if orders is not None and keys is None:
        raise InvalidArgumentError("sorting_order", "given without sorting_keys")
    if keys is not None and orders is not None and len(keys) != len(orders):
        raise InvalidArgumentError(
            "sorting_order",
            f"has {len(orders)} entries but sorting_keys has {len(keys)}; they pair up one to one",
        )


def check_paging(
    *, before: str | None, after: str | None, offset: int | None, limit: int | None
) -> None:
    """At most one of ``before``, ``after`` and ``offset``; no negative numbers."""
    named = (("before", before), ("after", after), ("offset", offset))
    chosen = [name for name, value in named if value is not None]
    if len(chosen) > 1:
        raise InvalidArgumentError(chosen[-1], f"cannot be combined with {chosen[0]}")
    if offset is not None and offset < 0:
        raise InvalidArgumentError("offset", f"must be >= 0, got {offset}")
    if limit is not None and limit < 1:
        raise InvalidArgumentError("limit", f"must be >= 1, got {limit}")
    for name, cursor in (("before", before), ("after", after)):
        if cursor is not None and (not cursor or not _is_cursor(cursor)):
            raise InvalidArgumentError(name, f"not a Pleo cursor (A-Z, 2-7, '=', '~'): {cursor!r}")


_CURSOR_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=~")


def _is_cursor(value: str) -> bool:
    return all(char in _CURSOR_ALPHABET for char in value)
