"""How the sync signatures take their defaults from the async API's own signatures.

Every default number lives once, in the async SDK (``_config``, the engine's modules); the
sync client repeats none of them. Each sync module reads the defaults of the async piece it
wraps, from that piece's public object: ``sync._client`` from ``pleo_export.PleoExport`` and
``V3Resources.export_run``, ``sync._run`` from ``ExportRun.process``, ``sync._worker`` from
``ExportWorker``, ``sync._resources`` from ``V3Resources.export_run``. So each stands only on
what it wraps, and this module imports nothing of the package (it sits on the house's ground
floor). ``tests/sync/test_defaults.py`` compares the two APIs' signatures, parameter by
parameter.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["keyword_defaults"]


def keyword_defaults(function: Callable[..., object]) -> Mapping[str, Any]:
    """The defaults of ``function``'s parameters, by name."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
