"""Cursor pagination for the fake: parsing the paging parameters, cursors, and page envelopes.

A list is a *view*: an ordered set of integer keys (item indexes, job sequence numbers) that can
count and slice itself without materialising a million entries. Cursors are base32 of a kind
letter and a key, so they match Pleo's ``^[A-Z2-7=~]+$`` and a cursor of one list is refused
by another.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from pleo_export.testing._rules import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PAGE_ORDERS, ApiError

__all__ = [
    "ComplementView",
    "ListView",
    "PageRequest",
    "RangeView",
    "SortedView",
    "View",
    "decode_cursor",
    "encode_cursor",
    "page",
    "parse_page_request",
]

_PAGING_PARAMS = frozenset({"before", "after", "offset", "limit", "sorting_keys", "sorting_order"})


def encode_cursor(kind: str, key: int) -> str:
    """Return the opaque cursor for ``key`` in a list of ``kind``."""
    return base64.b32encode(f"{kind}:{key}".encode()).decode("ascii")


def decode_cursor(kind: str, cursor: str) -> int:
    """Return the key in ``cursor``; raise a 400 ApiError if it is not a cursor of ``kind``."""
    try:
        found_kind, _, key = base64.b32decode(cursor).decode("ascii").partition(":")
        if found_kind == kind and key.isdigit():
            return int(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError.bad_request(f"Invalid cursor: {cursor!r}.", "INVALID_CURSOR")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The paging part of one list request, validated."""

    kind: str
    limit: int
    after: int | None = None
    before: int | None = None
    offset: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    sorting_keys: tuple[str, ...] = ()
    sorting_order: tuple[str, ...] = ()
    parameters: dict[str, list[str]] = field(default_factory=dict)

    def descending(self, key: str) -> bool:
        """Return whether ``key`` is sorted in a descending order in this request."""
        for name, order in zip(self.sorting_keys, self.sorting_order, strict=True):
            if name == key:
                return order.startswith("DESC")
        return False


#: The spec's formats: ``limit`` is an int32, ``offset`` an int64; larger numbers are a 400.
_INT_MAX: Final = {"limit": 2**31 - 1, "offset": 2**63 - 1}


def _int_param(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ApiError.bad_request(f"`{name}` must be a non-negative integer.") from None
    if value < 0:
        raise ApiError.bad_request(f"`{name}` must be a non-negative integer.")
    if value > _INT_MAX[name]:
        raise ApiError.bad_request(f"`{name}` must be at most {_INT_MAX[name]}.")
    return value


def parse_page_request(
    query: Sequence[tuple[str, str]], kind: str, sort_keys: frozenset[str]
) -> PageRequest:
    """Validate the paging parameters in ``query`` (a multi-dict's items).

    Args:
        query: All query parameters, repeated keys kept.
        kind: The cursor kind of the list.
        sort_keys: The ``sorting_keys`` this list supports; any other is a 400.

    Raises:
        ApiError: 400 when ``before``, ``after`` and ``offset`` are mixed, a cursor or number is
            malformed, or ``sorting_keys`` and ``sorting_order`` differ in length.
    """
    single: dict[str, str] = {}
    keys: list[str] = []
    orders: list[str] = []
    parameters: dict[str, list[str]] = {}
    for name, value in query:
        if name == "sorting_keys":
            keys.append(value)
        elif name == "sorting_order":
            orders.append(value)
        elif name in _PAGING_PARAMS:
            single[name] = value
        else:
            parameters.setdefault(name, []).append(value)
    if sum(name in single for name in ("before", "after", "offset")) > 1:
        raise ApiError.bad_request("Use only one of `before`, `after` and `offset`.")
    if len(keys) != len(orders):
        raise ApiError.bad_request("`sorting_keys` and `sorting_order` must have the same length.")
    for key in keys:
        if key not in sort_keys:
            supported = ", ".join(sorted(sort_keys)) or "none"
            raise ApiError.bad_request(f"Cannot sort by {key!r}; supported: {supported}.")
    for order in orders:
        if order not in PAGE_ORDERS:
            raise ApiError.bad_request(f"Unknown sorting order {order!r}.")
    limit = DEFAULT_PAGE_LIMIT
    if "limit" in single:
        limit = min(_int_param("limit", single["limit"]), MAX_PAGE_LIMIT)
    offset = _int_param("offset", single["offset"]) if "offset" in single else None
    after = decode_cursor(kind, single["after"]) if "after" in single else None
    before = decode_cursor(kind, single["before"]) if "before" in single else None
    raw: dict[str, Any] = {name: single[name] for name in ("after", "before") if name in single}
    if offset is not None:
        raw["offset"] = offset
    return PageRequest(
        kind=kind,
        limit=limit,
        after=after,
        before=before,
        offset=offset,
        raw=raw,
        sorting_keys=tuple(keys),
        sorting_order=tuple(orders),
        parameters=parameters,
    )


class View(Protocol):
    """An ordered set of integer keys that can count and slice itself."""

    def total(self) -> int:
        """Return the number of keys."""
        ...

    def rank_through(self, key: int) -> int:
        """Return how many keys come at or before ``key``'s position."""
        ...

    def rank_before(self, key: int) -> int:
        """Return how many keys come strictly before ``key``'s position."""
        ...

    def keys(self, start: int, stop: int) -> list[int]:
        """Return the keys at ranks ``start`` (inclusive) to ``stop`` (exclusive)."""
        ...


class RangeView:
    """The keys ``0 .. n-1`` in order: every item of a job."""

    def __init__(self, n: int) -> None:
        self._n = n

    def total(self) -> int:
        """Return the number of keys."""
        return self._n

    def rank_through(self, key: int) -> int:
        """Return how many keys are at most ``key``."""
        return min(key + 1, self._n)

    def rank_before(self, key: int) -> int:
        """Return how many keys are below ``key``."""
        return min(key, self._n)

    def keys(self, start: int, stop: int) -> list[int]:
        """Return the keys at ranks ``start`` to ``stop``."""
        return list(range(start, stop))


class SortedView:
    """An explicit ascending list of keys: a job's items in a status other than the default."""

    def __init__(self, keys: list[int]) -> None:
        self._keys = keys

    def total(self) -> int:
        """Return the number of keys."""
        return len(self._keys)

    def rank_through(self, key: int) -> int:
        """Return how many keys are at most ``key``."""
        return bisect.bisect_right(self._keys, key)

    def rank_before(self, key: int) -> int:
        """Return how many keys are below ``key``."""
        return bisect.bisect_left(self._keys, key)

    def keys(self, start: int, stop: int) -> list[int]:
        """Return the keys at ranks ``start`` to ``stop``."""
        return self._keys[start:stop]


class ComplementView:
    """The keys ``0 .. n-1`` except an ascending list of excluded ones.

    This is a job's items filtered to its default status: every item not overridden to another.
    """

    def __init__(self, n: int, excluded: list[int]) -> None:
        self._n = n
        self._excluded = excluded

    def total(self) -> int:
        """Return the number of keys."""
        return self._n - len(self._excluded)

    def rank_through(self, key: int) -> int:
        """Return how many kept keys are at most ``key``."""
        key = min(key, self._n - 1)
        return key + 1 - bisect.bisect_right(self._excluded, key)

    def rank_before(self, key: int) -> int:
        """Return how many kept keys are below ``key``."""
        key = min(key, self._n)
        return key - bisect.bisect_left(self._excluded, key)

    def _select(self, rank: int) -> int:
        """Return the kept key with ``rank`` kept keys before it (binary search)."""
        low, high = rank, rank + len(self._excluded)
        while low < high:
            mid = (low + high) // 2
            if self.rank_through(mid) >= rank + 1:
                high = mid
            else:
                low = mid + 1
        return low

    def keys(self, start: int, stop: int) -> list[int]:
        """Return the kept keys at ranks ``start`` to ``stop``."""
        if start >= stop:
            return []
        found: list[int] = []
        key = self._select(start)
        skip = bisect.bisect_left(self._excluded, key)
        while len(found) < stop - start:
            if skip < len(self._excluded) and self._excluded[skip] == key:
                skip += 1
            else:
                found.append(key)
            key += 1
        return found


class ListView:
    """A small explicit ordering of keys, of which some match a filter: the jobs of a company.

    ``ordered`` holds every key the cursor may name (so a job that left the filter between two
    pages still anchors the next one); ``matching`` says which of them are listed.
    """

    def __init__(self, ordered: list[int], matching: list[bool]) -> None:
        self._position = {key: pos for pos, key in enumerate(ordered)}
        self._listed = [key for key, keep in zip(ordered, matching, strict=True) if keep]
        self._counts = [0]
        for keep in matching:
            self._counts.append(self._counts[-1] + keep)

    def _pos(self, key: int) -> int:
        try:
            return self._position[key]
        except KeyError:
            raise ApiError.bad_request(
                "The cursor does not belong to this list.", "INVALID_CURSOR"
            ) from None

    def total(self) -> int:
        """Return the number of listed keys."""
        return len(self._listed)

    def rank_through(self, key: int) -> int:
        """Return how many listed keys come at or before ``key``."""
        return self._counts[self._pos(key) + 1]

    def rank_before(self, key: int) -> int:
        """Return how many listed keys come before ``key``."""
        return self._counts[self._pos(key)]

    def keys(self, start: int, stop: int) -> list[int]:
        """Return the listed keys at ranks ``start`` to ``stop``."""
        return self._listed[start:stop]


def page(view: View, request: PageRequest) -> tuple[list[int], dict[str, Any]]:
    """Select one page of ``view`` and build its ``pagination`` object (CursorPageInfo).

    ``after`` pages forward from a cursor, ``before`` pages backward to it, ``offset`` skips.
    """
    total = view.total()
    limit = request.limit
    if request.after is not None:
        start = view.rank_through(request.after)
        stop = min(start + limit, total)
    elif request.before is not None:
        stop = view.rank_before(request.before)
        start = max(0, stop - limit)
    else:
        start = min(request.offset or 0, total)
        stop = min(start + limit, total)
    keys = view.keys(start, stop)
    current: dict[str, Any] = {"parameters": request.parameters, "limit": limit, **request.raw}
    current["sortingKeys"] = list(request.sorting_keys)
    current["sortingOrder"] = list(request.sorting_order)
    info: dict[str, Any] = {
        "hasNextPage": stop < total,
        "hasPreviousPage": start > 0,
        "currentRequestPagination": current,
        "total": total,
    }
    if keys:
        info["startCursor"] = encode_cursor(request.kind, keys[0])
        info["endCursor"] = encode_cursor(request.kind, keys[-1])
    return keys, info
