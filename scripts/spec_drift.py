"""Report the contract changes between two OpenAPI 3.0 documents, graded for a generated client.

Usage::

    python scripts/spec_drift.py OLD NEW [--format text|json] [--fail-on LEVEL] [--common-only]
    python scripts/spec_drift.py --list-rules

OLD and NEW are YAML or JSON files or http(s) URLs. A text page that embeds the document in a
fenced ```yaml block (such as the pages in ``shared/seeds/``) is accepted too.

What is compared: operations (added, removed, deprecated, operationId, tags), parameters
(presence, requiredness, deprecation, style/explode, schema), request bodies and responses
(presence, status codes, media types, schemas), every schema reached from them with ``$ref``
followed (properties, requiredness, nullability, type and format, enums, defaults, ``$ref``
names), security requirements and schemes, servers and removed component schemas. Media types are
compared without their parameters (``application/json;charset=UTF-8`` is ``application/json``).
Prose (descriptions, summaries, titles, examples) and validation bounds (pattern, min/max) are
not compared.

Grading: each change id has one fixed level, ``breaking`` / ``warning`` / ``info``, which are
oasdiff's ERR / WARN / INFO. Ids and default levels follow **oasdiff v1.28.0** (its rule registry
``checker/rules.go``; summarised in ``shared/reference/oasdiff-taxonomy.md``), so a request-side
change is graded contravariantly and a response-side one covariantly: an enum value added to a
response is a warning, to a request info; removed from a request it is breaking, from a response
info. Where this tool departs from oasdiff it says so in ``_drift_rules.RULES``:

* ``api-operation-id-removed`` / ``-added`` are raised from info to warning, because
  openapi-python-client names the generated function and module after the operationId;
* ids oasdiff does not have are named in its style: a closed enum becoming an open string
  (``*-became-not-enum``), style/explode changes, ``$ref`` renames (``*-schema-ref-changed``),
  ``default`` responses, servers, and a value added to a root response enum;
* a media type whose only change is a parameter such as ``charset`` is not reported (oasdiff
  reports ``response-media-type-name-changed``), and type checks always treat JSON bodies as
  strongly typed, whatever their parameters;
* ``x-sunset``, stability levels and ``x-extensible-enum`` are not evaluated.

Exit status: 0, or 1 when ``--fail-on LEVEL`` is given and a change at or above LEVEL was found;
2 for usage errors and documents that cannot be read.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _drift_rules import (
    RULES,
    Change,
    Level,
    Operation,
    Resolver,
    SchemaDiffer,
    Side,
    iter_rules,
)
from _spec_io import read_source

__all__ = [
    "Change",
    "Level",
    "SpecError",
    "diff_specs",
    "exit_code",
    "extract_openapi_documents",
    "format_json",
    "format_rules",
    "format_text",
    "load_document",
    "main",
    "merge_documents",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_REQUEST_BODY = Side("request", root="request-body", nested="request-property")
_RESPONSE_BODY = Side("response", root="response-body", nested="response-property")
_PARAMETER = Side(
    "request",
    root="request-parameter",
    nested="request-parameter-property",
    loose=True,  # parameters travel as text
    walk_properties=False,
)
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?:ya?ml|json)\b[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)


class SpecError(Exception):
    """A document could not be read, or holds no OpenAPI description."""


# --- Loading -----------------------------------------------------------------------------------


def _read_text(source: str) -> str:
    try:
        return read_source(source).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read {source}: {error}") from error


def _is_openapi(node: Any) -> bool:
    return isinstance(node, dict) and "openapi" in node


def extract_openapi_documents(text: str) -> list[dict[str, Any]]:
    """Return the OpenAPI documents in ``text``: the text itself, or its fenced yaml/json blocks.

    Blocks that do not parse, or parse to something other than an OpenAPI document, are skipped.
    """
    try:
        whole = yaml.safe_load(text)
    except yaml.YAMLError:
        whole = None
    if _is_openapi(whole):
        return [whole]
    documents = []
    for match in _FENCE.finditer(text):
        try:
            block = yaml.safe_load(match.group("body"))
        except yaml.YAMLError:
            continue
        if _is_openapi(block):
            documents.append(block)
    return documents


def merge_documents(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge excerpts of one API into one document; the first definition of anything wins."""
    merged = copy.deepcopy(documents[0])
    for document in documents[1:]:
        for path, item in (document.get("paths") or {}).items():
            target = merged.setdefault("paths", {}).setdefault(path, {})
            for key, value in item.items():
                target.setdefault(key, copy.deepcopy(value))
        for section, entries in (document.get("components") or {}).items():
            target = merged.setdefault("components", {}).setdefault(section, {})
            for name, value in entries.items():
                target.setdefault(name, copy.deepcopy(value))
    return merged


def load_document(source: str) -> dict[str, Any]:
    """Load an OpenAPI document from a path or URL (YAML, JSON, or a page embedding one).

    Raises:
        SpecError: the source cannot be read or holds no OpenAPI document.
    """
    documents = extract_openapi_documents(_read_text(source))
    if not documents:
        raise SpecError(f"{source}: no OpenAPI document found")
    return merge_documents(documents)


# --- Document-level changes --------------------------------------------------------------------


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


def _requirements(raw: Any) -> dict[frozenset[str], dict[str, frozenset[str]]]:
    """Security requirement alternatives, keyed by the set of scheme names each one combines."""
    result: dict[frozenset[str], dict[str, frozenset[str]]] = {}
    for requirement in raw or []:
        if isinstance(requirement, dict):
            scopes = {name: frozenset(values or ()) for name, values in requirement.items()}
            result[frozenset(scopes)] = scopes
    return result


def _describe_requirement(schemes: frozenset[str]) -> str:
    return " + ".join(sorted(schemes)) or "anonymous access"


def _diff_security(old_raw: Any, new_raw: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """Yield (id, message) for two security requirement lists; ``prefix`` names the level."""
    old, new = _requirements(old_raw), _requirements(new_raw)
    for key in old:
        if key not in new:
            yield f"{prefix}-removed", f"requirement {_describe_requirement(key)} removed"
    for key in new:
        if key not in old:
            yield f"{prefix}-added", f"requirement {_describe_requirement(key)} added"
    for key in old:
        if key not in new:
            continue
        for scheme, old_scopes in old[key].items():
            new_scopes = new[key][scheme]
            for scope in sorted(new_scopes - old_scopes):
                yield f"{prefix}-scope-added", f"scope {scope} added to {scheme}"
            for scope in sorted(old_scopes - new_scopes):
                yield f"{prefix}-scope-removed", f"scope {scope} removed from {scheme}"


def _scheme_signature(scheme: Any) -> tuple[Any, ...]:
    if not isinstance(scheme, dict):
        return ()
    kind = scheme.get("scheme")
    return (
        scheme.get("type"),
        kind.lower() if isinstance(kind, str) else kind,
        scheme.get("in"),
        scheme.get("name"),
        scheme.get("openIdConnectUrl"),
    )


def _components(document: dict[str, Any], section: str) -> dict[str, Any]:
    components = document.get("components") or {}
    entries = components.get(section) or {}
    return entries if isinstance(entries, dict) else {}


def _diff_security_schemes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    old_schemes = _components(old, "securitySchemes")
    new_schemes = _components(new, "securitySchemes")
    where = "components.securitySchemes"
    for name, scheme in old_schemes.items():
        if name not in new_schemes:
            yield Change("api-security-component-removed", f"scheme {name} removed", None, where)
        elif _scheme_signature(scheme) != _scheme_signature(new_schemes[name]):
            message = f"scheme {name} changed its type, scheme or location"
            yield Change("api-security-component-type-changed", message, None, where)
    for name in new_schemes:
        if name not in old_schemes:
            yield Change("api-security-component-added", f"scheme {name} added", None, where)


def _diff_component_schemas(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    new_schemas = _components(new, "schemas")
    for name in _components(old, "schemas"):
        if name not in new_schemas:
            message = f"component schema {name} removed (its generated model class goes too)"
            yield Change("api-schema-removed", message, None, "components.schemas")


# --- Operations --------------------------------------------------------------------------------


class _Entry(NamedTuple):
    """One operation as found in a document."""

    path: str
    path_item: dict[str, Any]
    operation: dict[str, Any]


def _path_key(path: str) -> str:
    """``/jobs/{jobId}`` and ``/jobs/{id}`` are the same endpoint."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], _Entry]:
    result: dict[tuple[str, str], _Entry] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                result[(method.upper(), _path_key(path))] = _Entry(path, item, operation)
    return result


def _essence(media_type: str) -> str:
    """Drop media type parameters: ``application/json;charset=UTF-8`` → ``application/json``."""
    return media_type.split(";", 1)[0].strip().lower()


def _content(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    content = container.get("content") or {}
    return {_essence(str(k)): v for k, v in content.items() if isinstance(v, dict)}


def _status_kind(code: str) -> str:
    if code == "default":
        return "default"
    return "success" if code.startswith("2") else "non-success"


def _effective_style(parameter: dict[str, Any]) -> tuple[str, bool]:
    """Style and explode with OpenAPI's defaults filled in."""
    default = "form" if parameter.get("in") in ("query", "cookie") else "simple"
    style = str(parameter.get("style") or default)
    return style, bool(parameter.get("explode", style == "form"))


def _parameter_schema(parameter: dict[str, Any]) -> Any:
    if "schema" in parameter:
        return parameter["schema"]
    for media in _content(parameter).values():
        return media.get("schema")
    return None


class _OperationDiff:
    """The changes inside one operation present in both documents."""

    def __init__(
        self,
        old_doc: dict[str, Any],
        new_doc: dict[str, Any],
        old: _Entry,
        new: _Entry,
        method: str,
    ) -> None:
        self._old_doc, self._new_doc = old_doc, new_doc
        self._old_resolver, self._new_resolver = Resolver(old_doc), Resolver(new_doc)
        self._old, self._new = old, new
        operation_id = new.operation.get("operationId") or old.operation.get("operationId")
        self.operation = Operation(method, new.path, operation_id)
        self.changes: list[Change] = []

    def run(self) -> list[Change]:
        """Compare everything and return the changes in document order."""
        self._metadata()
        self._parameters()
        self._request_body()
        self._responses()
        self._security()
        return self.changes

    def _add(self, rule_id: str, message: str, location: str = "", prop: str = "") -> None:
        self.changes.append(Change(rule_id, message, self.operation, location, prop))

    def _schemas(self, side: Side, location: str) -> SchemaDiffer:
        def emit(rule_id: str, path: str, message: str) -> None:
            self._add(rule_id, message, location, path)

        return SchemaDiffer(self._old_resolver, self._new_resolver, side, emit)

    def _metadata(self) -> None:
        old, new = self._old.operation, self._new.operation
        if bool(old.get("deprecated")) != bool(new.get("deprecated")):
            if new.get("deprecated"):
                self._add("endpoint-deprecated", "now deprecated")
            else:
                self._add("endpoint-reactivated", "no longer deprecated")
        old_id, new_id = old.get("operationId"), new.get("operationId")
        if old_id != new_id:
            if old_id is None:
                message = f"operationId {new_id} set (renames the generated function)"
                self._add("api-operation-id-added", message)
            else:
                renamed = f"renamed to {new_id}" if new_id else "removed"
                message = f"operationId {old_id} {renamed} (renames the generated function)"
                self._add("api-operation-id-removed", message)
        old_tags, new_tags = old.get("tags") or [], new.get("tags") or []
        for tag in old_tags:
            if tag not in new_tags:
                self._add("api-tag-removed", f"tag {tag!r} removed")
        for tag in new_tags:
            if tag not in old_tags:
                self._add("api-tag-added", f"tag {tag!r} added")

    # Parameters.

    def _parameter_map(self, resolver: Resolver, entry: _Entry) -> dict[tuple[str, str], Any]:
        """Path-level and operation-level parameters; the operation's win (OpenAPI 3.0)."""
        merged: dict[tuple[str, str], Any] = {}
        raw = [
            *(entry.path_item.get("parameters") or []),
            *(entry.operation.get("parameters") or []),
        ]
        for item in raw:
            parameter, _ = resolver.deref(item)
            name, where = parameter.get("name"), parameter.get("in")
            if isinstance(name, str) and isinstance(where, str):
                merged[(where, name.lower() if where == "header" else name)] = parameter
        return merged

    def _path_renames(self) -> dict[str, str]:
        """New path-parameter names mapped to the old ones, paired by position in the template."""
        old_names = re.findall(r"\{([^}]*)\}", self._old.path)
        new_names = re.findall(r"\{([^}]*)\}", self._new.path)
        return {new: old for old, new in zip(old_names, new_names, strict=False) if old != new}

    def _parameters(self) -> None:
        old = self._parameter_map(self._old_resolver, self._old)
        new: dict[tuple[str, str], Any] = {}
        renames = self._path_renames()
        for key, parameter in self._parameter_map(self._new_resolver, self._new).items():
            if key[0] == "path" and key[1] in renames and ("path", renames[key[1]]) in old:
                key = ("path", renames[key[1]])
                message = f"renamed to {parameter['name']} (renames the generated argument)"
                self._add("request-path-parameter-renamed", message, _parameter_location(key))
            new[key] = parameter
        for key, parameter in old.items():
            if key not in new:
                deprecated = parameter.get("deprecated")
                rule_id = "request-parameter-removed" + ("-with-deprecation" if deprecated else "")
                message = "removed" + (" (it was deprecated)" if deprecated else "")
                self._add(rule_id, message, _parameter_location(key))
        for key, parameter in new.items():
            if key in old:
                self._parameter(key, old[key], parameter)
                continue
            if key[0] == "path":
                rule_id, message = "new-request-path-parameter", "added"
            elif parameter.get("required"):
                rule_id, message = "new-required-request-parameter", "added (required)"
            else:
                rule_id, message = "new-optional-request-parameter", "added (optional)"
            self._add(rule_id, message, _parameter_location(key))

    def _parameter(self, key: tuple[str, str], old: dict[str, Any], new: dict[str, Any]) -> None:
        location = _parameter_location(key)
        if bool(old.get("required")) != bool(new.get("required")):
            kind = "became-required" if new.get("required") else "became-optional"
            self._add(f"request-parameter-{kind}", kind.replace("-", " "), location)
        if bool(old.get("deprecated")) != bool(new.get("deprecated")):
            if new.get("deprecated"):
                self._add("request-parameter-deprecated", "now deprecated", location)
            else:
                self._add("request-parameter-reactivated", "no longer deprecated", location)
        (old_style, old_explode), (new_style, new_explode) = (
            _effective_style(old),
            _effective_style(new),
        )
        if old_style != new_style:
            message = f"style changed from {old_style} to {new_style}"
            self._add("request-parameter-style-changed", message, location)
        if old_explode != new_explode:
            message = f"explode changed from {old_explode} to {new_explode}".lower()
            self._add("request-parameter-explode-changed", message, location)
        old_schema, new_schema = _parameter_schema(old), _parameter_schema(new)
        if old_schema is not None and new_schema is not None:
            self._schemas(_PARAMETER, location).compare(old_schema, new_schema)

    # Bodies.

    def _request_body(self) -> None:
        old_raw = self._old.operation.get("requestBody")
        new_raw = self._new.operation.get("requestBody")
        if old_raw is None and new_raw is None:
            return
        new_body = self._new_resolver.deref(new_raw)[0]
        if old_raw is None:
            required = "required" if new_body.get("required") else "optional"
            self._add(f"request-body-added-{required}", f"added ({required})", "request body")
            return
        if new_raw is None:
            self._add("request-body-removed", "removed", "request body")
            return
        old_body = self._old_resolver.deref(old_raw)[0]
        if bool(old_body.get("required")) != bool(new_body.get("required")):
            kind = "became-required" if new_body.get("required") else "became-optional"
            self._add(f"request-body-{kind}", kind.replace("-", " "), "request body")
        self._media(old_body, new_body, _REQUEST_BODY, "request body", "request-body")

    def _media(
        self, old: dict[str, Any], new: dict[str, Any], side: Side, where: str, prefix: str
    ) -> None:
        """Compare the ``content`` of two bodies; ``prefix`` is the id prefix of media changes."""
        old_content, new_content = _content(old), _content(new)
        for media_type in old_content:
            if media_type not in new_content:
                self._add(f"{prefix}-media-type-removed", f"media type {media_type} removed", where)
        for media_type in new_content:
            if media_type not in old_content:
                self._add(f"{prefix}-media-type-added", f"media type {media_type} added", where)
        for media_type, old_media in old_content.items():
            if media_type not in new_content:
                continue
            location = f"{where} {media_type}"
            old_schema, new_schema = old_media.get("schema"), new_content[media_type].get("schema")
            schema_prefix = "request-body" if side is _REQUEST_BODY else "response-body"
            if old_schema is None and new_schema is not None:
                self._add(f"{schema_prefix}-media-type-schema-added", "schema added", location)
            elif old_schema is not None and new_schema is None:
                self._add(f"{schema_prefix}-media-type-schema-removed", "schema removed", location)
            elif old_schema is not None:
                self._schemas(side, location).compare(old_schema, new_schema)

    def _responses(self) -> None:
        old = {str(k): v for k, v in (self._old.operation.get("responses") or {}).items()}
        new = {str(k): v for k, v in (self._new.operation.get("responses") or {}).items()}
        for code in old:
            if code not in new:
                rule_id = f"response-{_status_kind(code)}-status-removed"
                self._add(rule_id, "status removed", f"response {code}")
        for code in new:
            if code not in old:
                rule_id = f"response-{_status_kind(code)}-status-added"
                self._add(rule_id, "status added", f"response {code}")
        for code, old_response in old.items():
            if code in new:
                old_body = self._old_resolver.deref(old_response)[0]
                new_body = self._new_resolver.deref(new[code])[0]
                self._media(old_body, new_body, _RESPONSE_BODY, f"response {code}", "response")

    def _security(self) -> None:
        old, new = self._old.operation, self._new.operation
        if "security" not in old and "security" not in new:
            return  # both inherit the document's requirements, compared once globally
        old_effective = old.get("security", self._old_doc.get("security"))
        new_effective = new.get("security", self._new_doc.get("security"))
        for rule_id, message in _diff_security(old_effective, new_effective, "api-security"):
            self._add(rule_id, message, "security")


def _parameter_location(key: tuple[str, str]) -> str:
    return f"{key[0]} parameter {key[1]}"


def _removal(entry: _Entry, method: str, path_survives: bool) -> Change:
    deprecated = bool(entry.operation.get("deprecated"))
    scope = "api-removed" if path_survives else "api-path-removed"
    rule_id = f"{scope}-{'with' if deprecated else 'without'}-deprecation"
    message = "operation removed" + (" (it was deprecated)" if deprecated else "")
    operation = Operation(method, entry.path, entry.operation.get("operationId"))
    return Change(rule_id, message, operation)


def _diff_operations(
    old: dict[str, Any], new: dict[str, Any], common_only: bool
) -> Iterator[Change]:
    old_ops, new_ops = _operations(old), _operations(new)
    new_paths = {_path_key(path) for path in (new.get("paths") or {})}
    for key, entry in old_ops.items():
        if key in new_ops:
            yield from _OperationDiff(old, new, entry, new_ops[key], key[0]).run()
        elif not common_only:
            yield _removal(entry, key[0], key[1] in new_paths)
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
        The changes, each with a fixed id and level (see ``_drift_rules.RULES``).
    """
    changes: list[Change] = []
    changes.extend(_diff_servers(old, new))
    for rule_id, message in _diff_security(
        old.get("security"), new.get("security"), "api-global-security"
    ):
        changes.append(Change(rule_id, message, None, "security"))
    changes.extend(_diff_security_schemes(old, new))
    if not common_only:
        changes.extend(_diff_component_schemas(old, new))
    changes.extend(_diff_operations(old, new, common_only))
    return changes


# --- Output ------------------------------------------------------------------------------------


def _counts(changes: Sequence[Change]) -> dict[str, int]:
    counts = {"total": len(changes)}
    for level in sorted(Level, reverse=True):
        counts[level.label] = sum(1 for change in changes if change.level is level)
    return counts


def _summary(changes: Sequence[Change]) -> str:
    counts = _counts(changes)
    parts = ", ".join(
        f"{counts[level.label]} {level.label}" for level in sorted(Level, reverse=True)
    )
    noun = "change" if len(changes) == 1 else "changes"
    return f"{len(changes)} {noun}: {parts}"


def _operation_order(operation: Operation | None) -> tuple[int, str, str]:
    if operation is None:
        return (0, "", "")
    return (1, operation.path, operation.method)


def format_text(changes: Sequence[Change]) -> str:
    """Render changes for people: grouped by level (worst first), then by operation."""
    lines = [_summary(changes)]
    for level in sorted(Level, reverse=True):
        group = [change for change in changes if change.level is level]
        if not group:
            continue
        lines += ["", f"{level.label.upper()} ({len(group)})"]
        operations = sorted({change.operation for change in group}, key=_operation_order)
        for operation in operations:
            if operation is None:
                lines.append("  (document)")
            else:
                suffix = f"  [{operation.operation_id}]" if operation.operation_id else ""
                lines.append(f"  {operation}{suffix}")
            for change in group:
                if change.operation == operation:
                    where = f"{change.location}: " if change.location else ""
                    lines.append(f"    {change.id}  {where}{change.message}")
    return "\n".join(lines) + "\n"


def format_json(changes: Sequence[Change]) -> str:
    """Render changes as a JSON object with ``summary`` counts and a ``changes`` list."""
    payload = {"summary": _counts(changes), "changes": [change.to_dict() for change in changes]}
    return json.dumps(payload, indent=2) + "\n"


def format_rules() -> str:
    """Render the rule table: id, level and where the level comes from."""
    width = max(len(rule_id) for rule_id in RULES)
    return "".join(
        f"{rule_id:<{width}}  {rule.level.label:<8}  {rule.origin.value}\n"
        for rule_id, rule in iter_rules()
    )


def exit_code(changes: Sequence[Change], fail_on: Level | None) -> int:
    """Return 1 when some change is at or above ``fail_on``, else 0."""
    if fail_on is not None and any(change.level >= fail_on for change in changes):
        return 1
    return 0


# --- Command line ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spec_drift.py",
        description="Report contract changes between two OpenAPI 3.0 documents.",
    )
    parser.add_argument("old", nargs="?", help="the old document: path or http(s) URL")
    parser.add_argument("new", nargs="?", help="the new document: path or http(s) URL")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--fail-on",
        choices=[level.label for level in sorted(Level, reverse=True)],
        help="exit 1 when a change at or above this level exists",
    )
    parser.add_argument(
        "--common-only",
        action="store_true",
        help="report only on operations present in both documents",
    )
    parser.add_argument("--list-rules", action="store_true", help="print the rule table and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list_rules:
        sys.stdout.write(format_rules())
        return 0
    if args.old is None or args.new is None:
        parser.error("OLD and NEW are required")
    try:
        old, new = load_document(args.old), load_document(args.new)
    except SpecError as error:
        print(f"spec_drift.py: error: {error}", file=sys.stderr)
        return 2
    changes = diff_specs(old, new, common_only=args.common_only)
    render = format_json if args.format == "json" else format_text
    sys.stdout.write(render(changes))
    fail_on = Level[args.fail_on.upper()] if args.fail_on else None
    return exit_code(changes, fail_on)


if __name__ == "__main__":
    sys.exit(main())
