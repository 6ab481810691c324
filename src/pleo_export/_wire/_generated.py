"""The generated client behind ``PleoExport.raw``, sending through the seam.

Its own module, so that the request bodies and enums (``_common``) need not import the seam.
"""

from __future__ import annotations

import httpx
from pleo_export_raw import Client as GeneratedClient

from ._seam import RawTransport, Seam

__all__ = ["GeneratedClient", "generated_client"]


def generated_client(seam: Seam, base_url: str) -> GeneratedClient:
    """The generated client, sending through ``seam`` (see ``RawTransport``)."""
    front = httpx.AsyncClient(base_url=base_url, transport=RawTransport(seam))
    return GeneratedClient(
        base_url=base_url, raise_on_unexpected_status=True
    ).set_async_httpx_client(front)
