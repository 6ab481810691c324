"""Contract changes between two versions of an OpenAPI 3.0 spec, graded like oasdiff.

``diff_specs(old, new)`` returns one ``Change`` per finding; each change id has one fixed
``Level`` in ``RULES`` (oasdiff's ids and default levels, with the few departures marked there).
Reading YAML needs PyYAML (the ``spec`` or ``cli`` extra); ``python -m pleo_export.spec OLD NEW``
and ``pleo-export spec diff OLD NEW`` print the report.

Where it departs from oasdiff (each departure is marked in ``RULES`` by its origin):

* ``api-operation-id-removed`` / ``-added`` are raised to warning: openapi-python-client names
  the generated function and module after the operationId;
* a media type is typed by its essence, so ``application/json;charset=UTF-8`` is JSON and
  strongly typed (oasdiff reads it as loosely typed, so a type swap there is only "compatible");
* ids oasdiff lacks are named in its style: an enum opened to any string (``*-became-not-enum``),
  style/explode changes, ``$ref`` renames (``*-schema-ref-changed``), ``default`` responses,
  servers, a value added to a root response enum, bounds inside object parameters and headers;
* ``x-stability-level``, sunset grace periods and OpenAPI 3.1-only keywords are not evaluated.

The runtime notices about unknown fields in API responses are a different thing and live with
the client, not here.
"""

from ._change import Change, Operation
from ._cli import main
from ._document import diff_specs
from ._load import (
    SpecError,
    extract_openapi_documents,
    load_document,
    merge_documents,
    read_source,
)
from ._report import exit_code, format_json, format_rules, format_text
from ._rules import RULES, Level, Origin, Rule, iter_rules

__all__ = [
    "RULES",
    "Change",
    "Level",
    "Operation",
    "Origin",
    "Rule",
    "SpecError",
    "diff_specs",
    "exit_code",
    "extract_openapi_documents",
    "format_json",
    "format_rules",
    "format_text",
    "iter_rules",
    "load_document",
    "main",
    "merge_documents",
    "read_source",
]
