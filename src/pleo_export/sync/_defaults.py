"""The sync signatures' defaults, read from the async API's own signatures.

Every default number lives once, in the async SDK (``_config``, the engine's modules); the
sync client repeats none of them: ``update_concurrency: int = RUN["update_concurrency"]`` is
whatever the async ``export_run`` says. Only public names are read, so the async internals can move.
``tests/sync/test_defaults.py`` compares the two APIs' signatures, parameter by parameter.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Final

import pleo_export

__all__ = ["CLIENT", "PROCESS", "RUN", "VERSION_RUN", "WORKER", "keyword_defaults"]


def keyword_defaults(function: Callable[..., object]) -> Mapping[str, Any]:
    """The defaults of ``function``'s parameters, by name."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


#: ``pleo_export.PleoExport(...)``'s defaults.
CLIENT: Final = keyword_defaults(pleo_export.PleoExport.__init__)
#: ``pleo.export_run(job, ...)``'s: ``update_concurrency`` is item-update batches in flight at
#: once, which ``job_items.update_all`` calls ``concurrency``.
RUN: Final = keyword_defaults(pleo_export.PleoExport.export_run)
#: ``pleo.v3.export_run(job, ...)``'s (and ``pleo.v2``'s: one method of theirs).
VERSION_RUN: Final = keyword_defaults(pleo_export.V3Resources.export_run)
#: ``run.process(handler, ...)``'s.
PROCESS: Final = keyword_defaults(pleo_export.ExportRun.process)
#: ``pleo_export.ExportWorker(pleo, handler, ...)``'s.
WORKER: Final = keyword_defaults(pleo_export.ExportWorker.__init__)
