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
from ._sender import Sender

# The adapters and ``_common`` import generated endpoints and models: they load on first use
# (a resource, ``pleo.raw``), so making a client loads the seam alone (issue 21).
if TYPE_CHECKING:
    from . import v2, v3
    from ._common import (
        check_job_failure_type,
        create_body,
        event_body,
        page_orders,
        send_updates,
    )
    from ._generated import GeneratedClient, generated_client
    from ._pages import GeneratedPages, ListPages

#: Name -> the submodule that defines it (or, for ``v2``/``v3``, is it).
_LAZY: dict[str, str] = {
    "GeneratedClient": "._generated",
    "GeneratedPages": "._pages",
    "ListPages": "._pages",
    "check_job_failure_type": "._common",
    "create_body": "._common",
    "event_body": "._common",
    "generated_client": "._generated",
    "page_orders": "._common",
    "send_updates": "._common",
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
    "Sender",
    "check_job_failure_type",
    "create_body",
    "endpoint_kwargs",
    "event_body",
    "generated_client",
    "json_loads",
    "page_orders",
    "send_updates",
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
