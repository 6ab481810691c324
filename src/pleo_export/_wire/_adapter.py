"""What one API version looks like on the wire: its endpoints, enums and update model.

An ``Adapter`` is data plus two functions; ``v3`` and ``v2`` each build one. Sending is the
seam's job, and choosing what to send is the resources' and the export run's.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from types import ModuleType
from typing import Any, Generic, TypeVar

import attrs

from .._outcome import ItemOutcome

__all__ = ["Adapter", "Endpoint", "endpoint_kwargs"]

U = TypeVar("U")


def endpoint_kwargs(module: ModuleType, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The request description a generated endpoint module builds for these arguments."""
    result: dict[str, Any] = module._get_kwargs(*args, **kwargs)
    return result


@attrs.frozen
class Endpoint:
    """One generated operation and the model its 2xx body parses into (None: no body)."""

    module: ModuleType
    model: type[Any] | None

    @property
    def name(self) -> str:
        """The operation's module name, e.g. ``get_export_jobs_list_v3``."""
        return self.module.__name__.rsplit(".", 1)[-1]

    def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The request description the generated builder makes of these arguments."""
        return endpoint_kwargs(self.module, *args, **kwargs)


@attrs.frozen(kw_only=True)
class Adapter(Generic[U]):
    """The endpoints, enums and update model of one API version.

    Attributes:
        version: ``"v3"`` or ``"v2"``.
        update_from: builds this version's item update model from an ``ItemOutcome``.
        coerce_update: a caller's update (model or dict in the API's JSON shape) as this
            version's update model, or ``InvalidArgumentError`` naming ``updates[index]``.
    """

    version: str
    list_jobs: Endpoint
    get_job: Endpoint
    create_job: Endpoint
    post_event: Endpoint
    list_job_items: Endpoint
    update_job_items: Endpoint
    list_export_items: Endpoint
    job_statuses: type[StrEnum]
    item_statuses: type[StrEnum]
    item_failure_types: type[StrEnum]
    update_from: Callable[[ItemOutcome], U]
    coerce_update: Callable[[object, int], U]
