"""The changes inside one operation that both documents have.

Metadata (deprecation, operationId, tags), parameters, the request body, responses with their
media types and headers, and operation-level security. Schemas found there are handed to the
walker with the ``Side`` that names their ids.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from ._change import Change, Operation
from ._keywords import Side
from ._load import Resolver
from ._schema import SchemaDiffer

__all__ = ["Entry", "OperationDiff", "diff_security", "essence", "sunset_pending"]

_REQUEST_BODY = Side("request", root="request-body", nested="request-property")
_RESPONSE_BODY = Side("response", root="response-body", nested="response-property")
# Parameters travel as text, so any type may become a string.
_PARAMETER = Side(
    "request",
    root="request-parameter",
    nested="request-parameter-property",
    holder="parameter",
    loose=True,
)
_HEADER_PARAMETER = dataclasses.replace(_PARAMETER, holder="header")
# Response headers are text too: a swap to or from string is "compatible".
_RESPONSE_HEADER = Side(
    "response",
    root="response-header",
    nested="response-header-property",
    holder="none",
    strong=False,
)


class Entry(NamedTuple):
    """One operation as found in a document."""

    path: str
    path_item: dict[str, Any]
    operation: dict[str, Any]


def essence(media_type: str) -> str:
    """Drop media type parameters: ``application/json;charset=UTF-8`` → ``application/json``."""
    return media_type.split(";", 1)[0].strip().lower()


def _strongly_typed(media_type: str) -> bool:
    """JSON bodies are typed; in text and XML bodies any value may be read as a string."""
    return media_type == "application/json" or media_type.endswith("+json")


def _content(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    content = container.get("content") or {}
    return {essence(str(k)): v for k, v in content.items() if isinstance(v, dict)}


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


def diff_security(old_raw: Any, new_raw: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """Yield (id, message) for two security requirement lists; ``prefix`` names the level."""
    old, new = _requirements(old_raw), _requirements(new_raw)
    for key in old.keys() - new.keys():
        yield f"{prefix}-removed", f"requirement {_describe_requirement(key)} removed"
    for key in new.keys() - old.keys():
        yield f"{prefix}-added", f"requirement {_describe_requirement(key)} added"
    for key in old.keys() & new.keys():
        for scheme, old_scopes in old[key].items():
            new_scopes = new[key][scheme]
            for scope in sorted(new_scopes - old_scopes):
                yield f"{prefix}-scope-added", f"scope {scope} added to {scheme}"
            for scope in sorted(old_scopes - new_scopes):
                yield f"{prefix}-scope-removed", f"scope {scope} removed from {scheme}"


def _parameter_location(key: tuple[str, str]) -> str:
    return f"{key[0]} parameter {key[1]}"


class OperationDiff:
    """The changes inside one operation present in both documents."""

    def __init__(
        self,
        documents: tuple[dict[str, Any], dict[str, Any]],
        resolvers: tuple[Resolver, Resolver],
        entries: tuple[Entry, Entry],
        method: str,
    ) -> None:
        self._old_doc, self._new_doc = documents
        self._old_resolver, self._new_resolver = resolvers
        self._old, self._new = entries
        old_id = self._old.operation.get("operationId")
        operation_id = self._new.operation.get("operationId") or old_id
        self.operation = Operation(method, self._new.path, operation_id)
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
            if not new.get("deprecated"):
                self._add("endpoint-reactivated", "no longer deprecated")
            elif new.get("x-sunset"):
                self._add(
                    "endpoint-deprecated-with-sunset", f"deprecated, sunset {new['x-sunset']}"
                )
            else:
                self._add("endpoint-deprecated", "now deprecated")
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

    def _parameter_map(
        self, resolver: Resolver, entry: Entry
    ) -> dict[tuple[str, str], tuple[dict[str, Any], bool]]:
        """Path-level and operation-level parameters, each with whether it is path-level; the
        operation's win (OpenAPI 3.0). Header names are case-insensitive."""
        merged: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
        for items, path_level in (
            (entry.path_item.get("parameters") or [], True),
            (entry.operation.get("parameters") or [], False),
        ):
            for item in items:
                parameter, _ = resolver.deref(item)
                name, where = parameter.get("name"), parameter.get("in")
                if isinstance(name, str) and isinstance(where, str):
                    key = (where, name.lower() if where == "header" else name)
                    merged[key] = (parameter, path_level)
        return merged

    def _path_renames(self) -> dict[str, str]:
        """New path-parameter names mapped to the old ones, paired by position in the template."""
        old_names = re.findall(r"\{([^}]*)\}", self._old.path)
        new_names = re.findall(r"\{([^}]*)\}", self._new.path)
        return {new: old for old, new in zip(old_names, new_names, strict=False) if old != new}

    def _parameters(self) -> None:
        old = self._parameter_map(self._old_resolver, self._old)
        new: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
        renames = self._path_renames()
        for key, value in self._parameter_map(self._new_resolver, self._new).items():
            if key[0] == "path" and key[1] in renames and ("path", renames[key[1]]) in old:
                key = ("path", renames[key[1]])
                message = f"renamed to {value[0]['name']} (renames the generated argument)"
                self._add("request-path-parameter-renamed", message, _parameter_location(key))
            new[key] = value
        for key, (parameter, _) in old.items():
            if key not in new:
                self._parameter_removed(key, parameter)
        for key, (parameter, path_level) in new.items():
            if key in old:
                self._parameter(key, old[key][0], parameter)
            else:
                self._parameter_added(key, parameter, path_level)

    def _parameter_removed(self, key: tuple[str, str], parameter: dict[str, Any]) -> None:
        if not parameter.get("deprecated"):
            rule_id, message = "request-parameter-removed", "removed"
        elif sunset_pending(parameter):
            rule_id = "request-parameter-removed-before-sunset"
            message = f"removed before its sunset {parameter['x-sunset']}"
        else:
            rule_id, message = "request-parameter-removed-with-deprecation", "removed (deprecated)"
        self._add(rule_id, message, _parameter_location(key))

    def _parameter_added(
        self, key: tuple[str, str], parameter: dict[str, Any], path_level: bool
    ) -> None:
        required = "required" if parameter.get("required") else "optional"
        if key[0] == "path":
            rule_id = "new-request-path-parameter"
        elif path_level:
            rule_id = f"new-{required}-request-default-parameter-to-existing-path"
        else:
            rule_id = f"new-{required}-request-parameter"
        self._add(rule_id, f"added ({required})", _parameter_location(key))

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
            side = _HEADER_PARAMETER if key[0] == "header" else _PARAMETER
            self._schemas(side, location).compare(old_schema, new_schema)

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
        for media_type in old_content.keys() - new_content.keys():
            self._add(f"{prefix}-media-type-removed", f"media type {media_type} removed", where)
        for media_type in new_content.keys() - old_content.keys():
            self._add(f"{prefix}-media-type-added", f"media type {media_type} added", where)
        schema_prefix = side.root
        for media_type, old_media in old_content.items():
            if media_type not in new_content:
                continue
            location = f"{where} {media_type}"
            old_schema, new_schema = old_media.get("schema"), new_content[media_type].get("schema")
            if old_schema is None and new_schema is not None:
                self._add(f"{schema_prefix}-media-type-schema-added", "schema added", location)
            elif old_schema is not None and new_schema is None:
                self._add(f"{schema_prefix}-media-type-schema-removed", "schema removed", location)
            elif old_schema is not None:
                typed = dataclasses.replace(side, strong=_strongly_typed(media_type))
                self._schemas(typed, location).compare(old_schema, new_schema)

    def _responses(self) -> None:
        old = {str(k): v for k, v in (self._old.operation.get("responses") or {}).items()}
        new = {str(k): v for k, v in (self._new.operation.get("responses") or {}).items()}
        for code in old.keys() - new.keys():
            self._add(
                f"response-{_status_kind(code)}-status-removed",
                "status removed",
                f"response {code}",
            )
        for code in new.keys() - old.keys():
            self._add(
                f"response-{_status_kind(code)}-status-added", "status added", f"response {code}"
            )
        for code, old_response in old.items():
            if code in new:
                old_body = self._old_resolver.deref(old_response)[0]
                new_body = self._new_resolver.deref(new[code])[0]
                self._media(old_body, new_body, _RESPONSE_BODY, f"response {code}", "response")
                self._headers(old_body, new_body, f"response {code}")

    def _headers(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        """Response headers, matched case-insensitively."""

        def headers(body: dict[str, Any], resolver: Resolver) -> dict[str, dict[str, Any]]:
            raw = body.get("headers") or {}
            return {str(name).lower(): resolver.deref(h)[0] for name, h in raw.items()}

        old_headers = headers(old, self._old_resolver)
        new_headers = headers(new, self._new_resolver)
        for name in sorted(old_headers.keys() - new_headers.keys()):
            required = "required" if old_headers[name].get("required") else "optional"
            self._add(
                f"{required}-response-header-removed",
                f"{required} header removed",
                f"{where} header {name}",
            )
        for name in sorted(new_headers.keys() - old_headers.keys()):
            self._add("response-header-added", "header added", f"{where} header {name}")
        for name in old_headers.keys() & new_headers.keys():
            location = f"{where} header {name}"
            was, now = old_headers[name], new_headers[name]
            if bool(was.get("required")) != bool(now.get("required")):
                kind = "became-required" if now.get("required") else "became-optional"
                self._add(f"response-header-{kind}", kind.replace("-", " "), location)
            old_schema, new_schema = _parameter_schema(was), _parameter_schema(now)
            if old_schema is not None and new_schema is not None:
                self._schemas(_RESPONSE_HEADER, location).compare(old_schema, new_schema)

    def _security(self) -> None:
        old, new = self._old.operation, self._new.operation
        if "security" not in old and "security" not in new:
            return  # both inherit the document's requirements, compared once globally
        old_effective = old.get("security", self._old_doc.get("security"))
        new_effective = new.get("security", self._new_doc.get("security"))
        for rule_id, message in diff_security(old_effective, new_effective, "api-security"):
            self._add(rule_id, message, "security")


def sunset_pending(node: dict[str, Any]) -> bool:
    """Whether ``node`` has an ``x-sunset`` date (``YYYY-MM-DD`` or RFC 3339) still to come."""
    sunset = node.get("x-sunset")
    return bool(sunset) and str(sunset)[:10] > datetime.date.today().isoformat()
