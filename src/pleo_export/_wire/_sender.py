"""``Sender``: what the pages and the resources need of the ``Seam``.

Build and send a generated endpoint's request (a page), or call it and parse its body (a
resource), and the bound on empty pages their pagers use. A protocol, so that ``_pages`` and
``_resources`` stand beside the seam instead of on it; the client hands them its ``Seam``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import httpx

from ._parse import FromDict

__all__ = ["Sender"]


class Sender(Protocol):
    """The seam's sending half (``Seam`` is the one implementation)."""

    @property
    def max_empty_pages(self) -> int:
        """Empty pages in a row a pager accepts before it stops with a ``PaginationError``."""
        ...

    def build(self, kwargs: dict[str, Any]) -> httpx.Request:
        """A generated endpoint's ``_get_kwargs()`` as a request on the shared client."""
        ...

    def send(
        self,
        request: httpx.Request,
        *,
        retry_post: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> Coroutine[Any, Any, httpx.Response]:
        """Send with retries; await it for a read 2xx response or a ``PleoError``."""
        ...

    async def call(
        self,
        kwargs: dict[str, Any],
        model: type[FromDict] | None,
        *,
        retry_post: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> Any:
        """Send a generated request and parse a 2xx body into ``model`` (None: no body)."""
        ...
