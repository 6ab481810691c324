"""The wire: the one package that imports the generated ``pleo_export_raw`` client.

``_seam`` sends requests on the shared pool and maps every status to a response or a typed
error, ``_parse`` a 2xx body to a model or a typed error; ``_pages`` turns a list response into
a page; ``v3`` and ``v2`` are the per-version adapters (endpoints, enums, update models) and
``_common`` what both share. Everything above it sees only these names and our own value types.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._adapter import Adapter, Endpoint, endpoint_kwargs
from ._parse import json_loads, unset_to_none
from ._seam import Seam

# The adapters and ``_common`` import generated endpoints and models: they load on first use
# (a resource, ``pleo.raw``), so making a client loads the seam alone (issue 21).
if TYPE_CHECKING:
    from . import v2, v3
    from ._common import (
        GeneratedClient,
        create_body,
        event_body,
        generated_client,
        job_failure_type,
        page_orders,
    )
    from ._pages import GeneratedPages, ListPages

#: Name -> the submodule that defines it (or, for ``v2``/``v3``, is it).
_LAZY: dict[str, str] = {
    "GeneratedClient": "._common",
    "GeneratedPages": "._pages",
    "ListPages": "._pages",
    "create_body": "._common",
    "event_body": "._common",
    "generated_client": "._common",
    "job_failure_type": "._common",
    "page_orders": "._common",
    "v2": ".v2",
    "v3": ".v3",
}

__all__ = [
    "Adapter",
    "Endpoint",
    "GeneratedClient",
    "GeneratedPages",
    "ListPages",
    "Seam",
    "create_body",
    "endpoint_kwargs",
    "event_body",
    "generated_client",
    "job_failure_type",
    "json_loads",
    "page_orders",
    "unset_to_none",
    "v2",
    "v3",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = importlib.import_module(module, __name__)
    value = loaded if name in ("v2", "v3") else getattr(loaded, name)
    globals()[name] = value
    return value
