"""What a ``PleoExport`` and its ``with_options`` views share, set once by the client.

The client (``_client``) builds it; a view gets the same object, so the settings, the in-memory
coordinator and the file downloads are one for the client and all its views.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import httpx

    from ._files import ExportItemSource, Files
    from .coordination._types import Coordinator

__all__ = ["SharedState"]


class _Owner(Protocol):
    """What the shared state needs of its client: the export items its files are listed from."""

    @property
    def export_items(self) -> ExportItemSource: ...


class SharedState:
    """What a client and its ``with_options`` views share, set once by the client: its
    settings, the in-memory coordinator of runs and workers given none (a run cancelled
    and started again in this process finds what it recorded) and the file downloads."""

    def __init__(
        self,
        owner: _Owner,
        *,
        auth: httpx.Auth | None,
        base_url: str,
        api_version: Literal["v3", "v2"],
        prefetch: int,
        owns_http: bool,
        files_settings: dict[str, Any],
    ) -> None:
        self.owner = owner
        self.auth = auth
        self.base_url = base_url
        self.api_version = api_version
        self.prefetch = prefetch
        self.owns_http = owns_http
        self.files_settings = files_settings

    @cached_property
    def coordinator(self) -> Coordinator:
        # deferred: loaded on first use, so importing the client stays cheap
        from .coordination._memory import InMemoryCoordinator

        return InMemoryCoordinator()

    @cached_property
    def files(self) -> Files:
        # deferred: loaded on first use, so importing the client stays cheap
        from ._files import Files

        return Files(self.owner.export_items, **self.files_settings)

    @property
    def files_made(self) -> bool:
        """Whether ``files`` was made (there is nothing to close before)."""
        return "files" in vars(self)
