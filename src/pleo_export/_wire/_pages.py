"""A list response as a ``Page``: the one place that knows Pleo's paging JSON and ``UNSET``.

``ListPages`` and ``GeneratedPages`` are what a ``Pager`` fetches from: one call sends the
request at a cursor and hands back the page. ``ListPages`` (the facade's list operations) reads
the cursors of the decoded body first and leaves the models to build when the page is consumed,
so a prefetch can ask for the next page before this one's models exist. Paging itself (cursor
steps, loop guards, prefetch) is ``_pagination``'s; sending is the seam's.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import httpx

from .._pagination import Cursor, Fetched, Page
from .._unknown_fields import note_unknowns
from ._adapter import Endpoint, endpoint_kwargs
from ._parse import decode, parse, parse_generated, unset_to_none
from ._seam import Seam

__all__ = ["GeneratedPages", "ListPages", "fetched_from_body", "page_from_envelope"]

T = TypeVar("T")


def page_from_envelope(envelope: Any) -> Page[Any]:
    """Read a generated ``CursorPaginatedResponse*`` model into a ``Page``."""
    info = envelope.pagination
    return Page(
        items=envelope.data,
        has_next_page=bool(info.has_next_page),
        has_previous_page=bool(info.has_previous_page),
        start_cursor=unset_to_none(info.start_cursor),
        end_cursor=unset_to_none(info.end_cursor),
        total=unset_to_none(info.total),
    )


def fetched_from_body(body: Any, build: Callable[[], Page[T]]) -> Fetched[T] | Page[T]:
    """Read the cursors of a decoded ``{data: [...], pagination: {...}}`` body before its models.

    ``build`` makes the ``Page``. A body whose paging metadata does not have the spec's types is
    built at once instead, so it fails (or pages) exactly as building it always did.
    """
    info = body.get("pagination") if isinstance(body, dict) else None
    items = body.get("data") if isinstance(body, dict) else None
    if isinstance(info, dict) and isinstance(items, list):
        more, fewer = info.get("hasNextPage"), info.get("hasPreviousPage")
        start, end = info.get("startCursor"), info.get("endCursor")
        if (
            isinstance(more, bool)
            and isinstance(fewer, bool)
            and isinstance(start, str | None)
            and isinstance(end, str | None)
        ):
            return Fetched(more, fewer, start, end, len(items), build)
    return build()


def _cursor_params(cursor: Cursor) -> dict[str, Any]:
    """The generated builder's ``after``/``before``/``offset`` arguments of a cursor."""
    params = {"after": cursor.after, "before": cursor.before, "offset": cursor.offset}
    return {name: value for name, value in params.items() if value is not None}


class ListPages:
    """The pages of one of the facade's list operations, at fixed arguments.

    ``await pages(cursor)`` is a ``Fetched`` page (cursors read, models built when the consumer
    calls ``build``), or a built ``Page`` when the metadata is odd (see ``fetched_from_body``).
    The first item of each built page is checked for fields this SDK does not know.
    """

    __slots__ = ("_endpoint", "_model", "_params", "_pos", "_seam", "_where")

    def __init__(self, seam: Seam, endpoint: Endpoint, *pos: Any, **params: Any) -> None:
        if endpoint.model is None:
            raise TypeError(f"{endpoint.name} has no 2xx body to page through")
        self._seam = seam
        self._endpoint = endpoint
        self._model: type[Any] = endpoint.model
        self._where = endpoint.name
        self._pos = pos
        self._params = params

    async def __call__(self, cursor: Cursor) -> Fetched[Any] | Page[Any]:
        seam = self._seam
        kwargs = self._endpoint.request(*self._pos, **self._params, **_cursor_params(cursor))
        response = await seam.send(seam.build(kwargs))
        body = decode(response)
        return fetched_from_body(body, lambda: self._build(response, body))

    def _build(self, response: httpx.Response, body: Any) -> Page[Any]:
        page = page_from_envelope(parse(response, self._model, body=body))
        if page.items:
            note_unknowns(page.items[0], where=self._where)
        return page


class GeneratedPages:
    """The pages of *any* generated list operation module (``pleo.paginate``), v0/v1 included.

    Each page is parsed whole by the module's own generated parser; ``params`` go to its
    ``_get_kwargs`` unchanged.
    """

    __slots__ = ("_module", "_params", "_pos", "_seam")

    def __init__(self, seam: Seam, module: ModuleType, *pos: Any, **params: Any) -> None:
        self._seam = seam
        self._module = module
        self._pos = pos
        self._params = params

    async def __call__(self, cursor: Cursor) -> Page[Any]:
        seam = self._seam
        kwargs = endpoint_kwargs(self._module, *self._pos, **self._params, **_cursor_params(cursor))
        response = await seam.send(seam.build(kwargs))
        return page_from_envelope(parse_generated(self._module, response))
