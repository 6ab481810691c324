"""What every resource shares: the seam and the list arguments.

A resource method validates its arguments, builds the generated endpoint's request and hands
it to the seam; list methods take ``**paging: Unpack[PagingOptions]`` and return a ``Pager``
over the wire's pages (``_wire._pages``).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any, TypedDict

from .._config import DEFAULT_PAGE_SIZE, DEFAULT_PREFETCH
from .._pagination import Cursor, Pager
from .._unknown_fields import note_unknowns
from .._validation import check_int, check_paging, check_sorting
from .._wire import Endpoint, GeneratedPages, ListPages, Sender, page_orders

__all__ = ["ListArgs", "PagingOptions", "Resource", "paginate"]


class PagingOptions(TypedDict, total=False):
    """The paging keyword arguments of every ``list()`` (``jobs``, ``job_items``,
    ``export_items``, async and sync): ``**paging: Unpack[PagingOptions]``.

    Each is optional; absent or None means the default.

    - ``limit``: page size (default 100).
    - ``after`` / ``before`` / ``offset``: where to start; at most one of them.
    - ``sorting_keys`` / ``sorting_order``: passed through; equal lengths.
    - ``max_items``: stop after this many items.
    - ``prefetch``: pages requested ahead (default 1; 0 turns it off).
    """

    limit: int | None
    after: str | None
    before: str | None
    offset: int | None
    sorting_keys: Sequence[str] | None
    sorting_order: Sequence[str] | None
    max_items: int | None
    prefetch: int | None


class ListArgs:
    """The paging arguments every list operation shares, validated once."""

    __slots__ = ("limit", "max_items", "prefetch", "query", "start")

    def __init__(self, paging: PagingOptions, *, default_prefetch: int) -> None:
        unknown = sorted(paging.keys() - PagingOptions.__optional_keys__)
        if unknown:  # what Python said of an unknown keyword before ``**paging``
            raise TypeError(f"list() got an unexpected keyword argument {unknown[0]!r}")
        limit, max_items, prefetch = (
            paging.get("limit"),
            paging.get("max_items"),
            paging.get("prefetch"),
        )
        after, before, offset = paging.get("after"), paging.get("before"), paging.get("offset")
        sorting_keys, sorting_order = paging.get("sorting_keys"), paging.get("sorting_order")
        check_paging(before=before, after=after, offset=offset, limit=limit, max_items=max_items)
        check_sorting(sorting_keys, sorting_order)
        if prefetch is not None:
            check_int(prefetch, "prefetch", minimum=0)
        self.limit = DEFAULT_PAGE_SIZE if limit is None else limit
        if limit is None and max_items:  # max_items=1 asks for one job, not a page of 100
            self.limit = min(self.limit, max_items)
        self.start = Cursor(after=after, before=before, offset=offset)
        self.max_items = max_items
        self.prefetch = default_prefetch if prefetch is None else prefetch
        self.query: dict[str, Any] = {}
        if sorting_keys is not None:
            self.query["sorting_keys"] = list(sorting_keys)
        if sorting_order is not None:
            self.query["sorting_order"] = page_orders(sorting_order)


class Resource:
    """Base of the resource classes: holds the seam and the default prefetch."""

    def __init__(self, seam: Sender, *, prefetch: int) -> None:
        self._seam = seam
        self._prefetch = prefetch

    def _list_args(self, paging: PagingOptions) -> ListArgs:
        return ListArgs(paging, default_prefetch=self._prefetch)

    async def _get(self, endpoint: Endpoint, *args: Any, where: str, **kwargs: Any) -> Any:
        """Fetch a ``{data: …}`` resource and return its ``data``."""
        envelope = await self._seam.call(endpoint.request(*args, **kwargs), endpoint.model)
        note_unknowns(envelope.data, where=where)
        return envelope.data

    def _pager(self, endpoint: Endpoint, args: ListArgs, *pos: Any, **params: Any) -> Pager[Any]:
        """A pager over a generated list endpoint: the wire's ``ListPages`` turns each response
        into a page."""
        pages = ListPages(self._seam, endpoint, *pos, **params, **args.query, limit=args.limit)
        return Pager(
            pages,
            start=args.start,
            max_items=args.max_items,
            prefetch=args.prefetch,
            max_empty_pages=self._seam.max_empty_pages,
        )


def paginate(
    seam: Sender,
    module: ModuleType,
    *pos: Any,
    after: str | None = None,
    before: str | None = None,
    offset: int | None = None,
    max_items: int | None = None,
    prefetch: int = DEFAULT_PREFETCH,
    **params: Any,
) -> Pager[Any]:
    """A pager over *any* generated list endpoint module, v0/v1 included.

    The 2xx body is parsed by the module's own generated parser; ``params`` go to its
    ``_get_kwargs`` unchanged (generated types: ``UUID``, enum members, ``limit`` …).
    """
    check_paging(
        before=before, after=after, offset=offset, limit=params.get("limit"), max_items=max_items
    )
    return Pager(
        GeneratedPages(seam, module, *pos, **params),
        start=Cursor(after=after, before=before, offset=offset),
        max_items=max_items,
        prefetch=prefetch,
        max_empty_pages=seam.max_empty_pages,
    )
