"""Caller input checked before any request: ids, enum values, batch sizes, paging arguments.

Each check raises ``InvalidArgumentError`` naming the argument. Values are only normalised
(a string id becomes a UUID, a string enum value its member); nothing is guessed.
"""

from __future__ import annotations

import math
import uuid
import warnings
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, TypeVar

from ._config import BATCH_LIMIT, MAX_CURSOR_CHARS, MAX_LIMIT, MAX_OFFSET
from ._errors import InvalidArgumentError

__all__ = [
    "check_batch",
    "check_bool",
    "check_coordinator",
    "check_enum",
    "check_int",
    "check_job",
    "check_list",
    "check_paging",
    "check_seconds",
    "check_sorting",
    "check_text",
    "check_uuid",
    "check_wait",
    "renamed",
]

E = TypeVar("E", bound=StrEnum)
M = TypeVar("M")


def renamed(old: str, new: str, old_value: int, new_value: int, default: int) -> int:
    """The value of a keyword renamed from ``old`` to ``new``: ``old_value`` (with a
    ``DeprecationWarning`` at the caller of the function that takes both) when given, else
    ``new_value``.

    Raises:
        InvalidArgumentError: both are given, with different values.
    """
    if new_value != default and new_value != old_value:
        raise InvalidArgumentError(old, f"give {new}= only ({old}= is its deprecated name)")
    warnings.warn(
        f"{old}= is deprecated and will be removed in the next release; use {new}=",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value


def check_int(value: object, argument: str, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` if it is a real ``int`` (not a bool) from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(argument, f"expected an int, got {_shown(value)}")
    if value < minimum:
        raise InvalidArgumentError(argument, f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidArgumentError(argument, f"must be <= {maximum}, got {value}")
    return value


def check_seconds(value: object, argument: str) -> float:
    """Return ``value`` if it is a finite, positive number of seconds (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(argument, f"expected seconds, got {_shown(value)}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError(argument, f"must be a finite number > 0, got {value}")
    return float(value)


def check_wait(value: object, argument: str) -> float:
    """Return ``value`` if it is a finite number of seconds >= 0 (0: no waiting; not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(argument, f"expected seconds, got {_shown(value)}")
    if not math.isfinite(value) or value < 0:
        raise InvalidArgumentError(argument, f"must be a finite number >= 0, got {value}")
    return float(value)


def check_bool(value: object, argument: str) -> bool:
    """Return ``value`` if it is a bool: ``1`` or ``"false"`` are refused, not guessed at."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, f"expected True or False, got {_shown(value)}")
    return value


def check_text(value: object, argument: str) -> str:
    """Return ``value`` if it is a string."""
    if not isinstance(value, str):
        raise InvalidArgumentError(argument, f"expected a string, got {_shown(value)}")
    return value


def _shown(value: object) -> str:
    """A short description of a bad value: its type, and its repr when that is short."""
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 60 else type(value).__name__


def check_uuid(value: object, argument: str) -> uuid.UUID:
    """Return ``value`` as a UUID, or raise naming ``argument``."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidArgumentError(argument, f"expected a UUID, got {_shown(value)}")


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


def check_list(values: object, argument: str) -> Sequence[object]:
    """Return ``values`` if it is a list or tuple (a bare string is refused, not split)."""
    if isinstance(values, Sequence) and not isinstance(values, str | bytes):
        return values
    if isinstance(values, set | frozenset):
        return list(values)
    raise InvalidArgumentError(argument, f"expected a list, got {_shown(values)}")


def check_sorting(keys: Sequence[str] | None, orders: Sequence[object] | None) -> None:
    """``sorting_keys`` and ``sorting_order`` must come together, of equal lengths; keys are
    strings, and neither is a bare string (which would be sent one letter per key)."""
    for name, values in (("sorting_keys", keys), ("sorting_order", orders)):
        if values is not None:
            check_list(values, name)
    for key in keys or ():
        check_text(key, "sorting_keys")
    if orders is not None and keys is None:
        raise InvalidArgumentError("sorting_order", "given without sorting_keys")
    if keys is not None and orders is not None and len(keys) != len(orders):
        raise InvalidArgumentError(
            "sorting_order",
            f"has {len(orders)} entries but sorting_keys has {len(keys)}; they pair up one to one",
        )


def check_paging(
    *, before: object, after: object, offset: object, limit: object, max_items: object = None
) -> None:
    """At most one of ``before``, ``after`` and ``offset``; numbers are real ints in the spec's
    range (``limit`` 1 to 2**31-1, ``offset`` 0 to 2**63-1); cursors at most 4 KiB."""
    named = (("before", before), ("after", after), ("offset", offset))
    chosen = [name for name, value in named if value is not None]
    if len(chosen) > 1:
        raise InvalidArgumentError(chosen[-1], f"cannot be combined with {chosen[0]}")
    if offset is not None:
        check_int(offset, "offset", minimum=0, maximum=MAX_OFFSET)
    if limit is not None:
        check_int(limit, "limit", minimum=1, maximum=MAX_LIMIT)
    if max_items is not None:
        check_int(max_items, "max_items", minimum=0)
    for name, cursor in (("before", before), ("after", after)):
        if cursor is None:
            continue
        if isinstance(cursor, str) and len(cursor) > MAX_CURSOR_CHARS:
            raise InvalidArgumentError(
                name, f"{len(cursor):,} characters; a cursor has at most {MAX_CURSOR_CHARS:,}"
            )
        if not isinstance(cursor, str) or not cursor or not _is_cursor(cursor):
            raise InvalidArgumentError(
                name, f"not a Pleo cursor (A-Z, 2-7, '=', '~'): {_shown(cursor)}"
            )


_CURSOR_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=~")


def _is_cursor(value: str) -> bool:
    return all(char in _CURSOR_ALPHABET for char in value)


def check_job(job: object, model: type[M], argument: str = "job") -> M | str | uuid.UUID:
    """``job`` as an export run takes it: an id (str or UUID) or a ``model``; a job model of
    the other API version still names the job, so its id. Anything else (None, bytes, a
    number) is refused naming ``argument``; its id is checked as a UUID later."""
    if isinstance(job, str | uuid.UUID | model):
        return job
    job_id = getattr(job, "id", None)
    if isinstance(job_id, str | uuid.UUID):
        return job_id
    raise InvalidArgumentError(argument, f"expected a job id or an export job, got {_shown(job)}")


def check_coordinator(value: object, argument: str = "coordinator") -> Any:
    """Return ``value`` if it is None or a ``Coordinator`` (it has the protocol's methods)."""
    from .coordination import Coordinator

    if value is not None and not isinstance(value, Coordinator):
        raise InvalidArgumentError(argument, f"expected a Coordinator or None, got {_shown(value)}")
    return value
