"""What every resource shares: the seam and the list arguments.

A resource method validates its arguments, builds the generated endpoint's request and hands
it to the seam; list methods return a ``Pager`` over the wire's pages (``_wire._pages``).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .._config import DEFAULT_PAGE_SIZE, DEFAULT_PREFETCH
from .._pagination import Cursor, Pager
from .._unknown_fields import note_unknowns
from .._validation import check_int, check_paging, check_sorting
from .._wire import Endpoint, GeneratedPages, ListPages, Seam, page_orders

__all__ = ["ListArgs", "Resource", "paginate"]


class ListArgs:
    """The paging arguments every list operation shares, validated once."""

    __slots__ = ("limit", "max_items", "prefetch", "query", "start")

    def __init__(
        self,
        *,
        limit: int | None,
        after: str | None,
        before: str | None,
        offset: int | None,
        sorting_keys: Sequence[str] | None,
        sorting_order: Sequence[str] | None,
        max_items: int | None,
        prefetch: int | None,
        default_prefetch: int,
    ) -> None:
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

    def __init__(self, seam: Seam, *, prefetch: int) -> None:
        self._seam = seam
        self._prefetch = prefetch

    def _list_args(self, **kwargs: Any) -> ListArgs:
        return ListArgs(default_prefetch=self._prefetch, **kwargs)

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
    seam: Seam,
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
