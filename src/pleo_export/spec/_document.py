"""Document-level comparison and the entry point ``diff_specs``.

Servers, global security, removed component schemas, and the matching of
operations across documents (``/jobs/{id}`` and ``/jobs/{jobId}`` are one endpoint); what changed
inside an operation is ``_operations``' business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ._change import Change, Entry, Operation
from ._load import Resolver, mapping
from ._operations import OperationDiff
from ._parameters import sunset_pending
from ._security import diff_security, diff_security_schemes

__all__ = ["diff_specs"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _server_urls(document: dict[str, Any]) -> list[str]:
    servers = document.get("servers") or []
    return [str(s["url"]).rstrip("/") for s in servers if isinstance(s, dict) and "url" in s]


def _diff_servers(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    old_urls, new_urls = _server_urls(old), _server_urls(new)
    for url in old_urls:
        if url not in new_urls:
            yield Change("api-server-removed", f"{url} removed", location="servers")
    for url in new_urls:
        if url not in old_urls:
            yield Change("api-server-added", f"{url} added", location="servers")


def _components(document: dict[str, Any], section: str) -> dict[str, Any]:
    components = document.get("components") or {}
    entries = components.get(section) or {}
    return entries if isinstance(entries, dict) else {}


def _diff_component_schemas(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    new_schemas = _components(new, "schemas")
    for name in _components(old, "schemas"):
        if name not in new_schemas:
            message = f"component schema {name} removed (its generated model class goes too)"
            yield Change("api-schema-removed", message, None, "components.schemas")


def _path_key(path: str) -> str:
    """``/jobs/{jobId}`` and ``/jobs/{id}`` are the same endpoint."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], Entry]:
    result: dict[tuple[str, str], Entry] = {}
    for path, item in mapping(document, "paths").items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                result[(method.upper(), _path_key(path))] = Entry(path, item, operation)
    return result


def _removal(entry: Entry, method: str, path_survives: bool) -> Iterator[Change]:
    """The finding for a removed operation; none when its sunset date has passed (oasdiff)."""
    scope = "api-removed" if path_survives else "api-path-removed"
    operation = Operation(method, entry.path, entry.operation.get("operationId"))
    if not entry.operation.get("deprecated"):
        yield Change(f"{scope}-without-deprecation", "operation removed", operation)
    elif sunset_pending(entry.operation):
        message = f"operation removed before its sunset {entry.operation['x-sunset']}"
        yield Change(f"{scope}-before-sunset", message, operation)
    elif not entry.operation.get("x-sunset"):
        yield Change(f"{scope}-with-deprecation", "operation removed (deprecated)", operation)


def _diff_operations(
    old: dict[str, Any], new: dict[str, Any], common_only: bool
) -> Iterator[Change]:
    old_ops, new_ops = _operations(old), _operations(new)
    new_paths = {_path_key(str(path)) for path in mapping(new, "paths")}
    documents, resolvers = (old, new), (Resolver(old), Resolver(new))
    for key, entry in old_ops.items():
        if key in new_ops:
            yield from OperationDiff(documents, resolvers, (entry, new_ops[key]), key[0]).run()
        elif not common_only:
            yield from _removal(entry, key[0], key[1] in new_paths)
    if common_only:
        return
    for key, entry in new_ops.items():
        if key not in old_ops:
            operation = Operation(key[0], entry.path, entry.operation.get("operationId"))
            yield Change("endpoint-added", "operation added", operation)


def diff_specs(
    old: dict[str, Any], new: dict[str, Any], *, common_only: bool = False
) -> list[Change]:
    """Return every contract change from ``old`` to ``new``, in document order.

    Args:
        old: the OpenAPI 3.0 document a client was generated from.
        new: the revised document.
        common_only: report only on operations present in both documents, and skip removed
            component schemas; for comparing a partial excerpt against a full document.

    Returns:
        The changes, each with a fixed id and level (see ``RULES``).
    """
    changes: list[Change] = []
    changes.extend(_diff_servers(old, new))
    for rule_id, message in diff_security(
        old.get("security"), new.get("security"), "api-global-security"
    ):
        changes.append(Change(rule_id, message, None, "security"))
    changes.extend(diff_security_schemes(old, new))
    if not common_only:
        changes.extend(_diff_component_schemas(old, new))
    changes.extend(_diff_operations(old, new, common_only))
    return changes
