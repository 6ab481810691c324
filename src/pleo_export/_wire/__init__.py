"""The wire: the one package that imports the generated ``pleo_export_raw`` client.

``_seam`` sends requests on the shared pool and maps every response to a model or a typed
error; ``v3`` and ``v2`` are the per-version adapters (endpoints, enums, update models) and
``_common`` what both share. Everything above it sees only these names and our own value types.
"""

from . import v2, v3
from ._adapter import Adapter, Endpoint
from ._common import (
    GeneratedClient,
    create_body,
    event_body,
    generated_client,
    job_failure_type,
    page_orders,
)
from ._seam import Seam, endpoint_kwargs, json_loads, unset_to_none

__all__ = [
    "Adapter",
    "Endpoint",
    "GeneratedClient",
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
