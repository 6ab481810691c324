"""The changes inside one operation that both documents have.

Metadata (deprecation, operationId, tags), parameters, the request body, responses with their
media types and headers, and operation-level security. Schemas found there are handed to the
walker with the ``Side`` that names their ids.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ._change import Change, Entry, Operation
from ._keywords import Side
from ._load import Resolver, mapping
from ._parameters import ParameterDiff, parameter_schema
from ._schema import SchemaDiffer
from ._security import diff_security

__all__ = ["OperationDiff", "essence"]

_REQUEST_BODY = Side("request", root="request-body", nested="request-property")
_RESPONSE_BODY = Side("response", root="response-body", nested="response-property")
# Response headers are text: a swap to or from string is "compatible".
_RESPONSE_HEADER = Side(
    "response",
    root="response-header",
    nested="response-header-property",
    holder="none",
    strong=False,
)


def essence(media_type: str) -> str:
    """Drop media type parameters: ``application/json;charset=UTF-8`` → ``application/json``."""
    return media_type.split(";", 1)[0].strip().lower()


def _strongly_typed(media_type: str) -> bool:
    """JSON bodies are typed; in text and XML bodies any value may be read as a string."""
    return media_type == "application/json" or media_type.endswith("+json")


def _content(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    content = mapping(container, "content")
    return {essence(str(k)): v for k, v in content.items() if isinstance(v, dict)}


def _names(container: dict[str, Any]) -> dict[str, str]:
    """Each media type's essence mapped to its key as written, parameters and all."""
    return {essence(str(k)): str(k).replace(" ", "").lower() for k in mapping(container, "content")}


def _suffix_pairs(removed: set[str], added: set[str]) -> dict[str, str]:
    """Removed media types paired with an added one that differs only by a ``+json``-style
    structured suffix (``application/problem+json`` and ``application/json``), either way."""
    pairs: dict[str, str] = {}
    for old in sorted(removed):
        for new in sorted(added - set(pairs.values())):
            old_type, _, old_sub = old.partition("/")
            new_type, _, new_sub = new.partition("/")
            if old_type == new_type and (
                old_sub.endswith("+" + new_sub) or new_sub.endswith("+" + old_sub)
            ):
                pairs[old] = new
                break
    return pairs


def _status_kind(code: str) -> str:
    if code == "default":
        return "default"
    return "success" if code.startswith("2") else "non-success"


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
        ParameterDiff((self._old_resolver, self._new_resolver), (self._old, self._new), self).run()
        self._request_body()
        self._responses()
        self._security()
        return self.changes

    def add(self, rule_id: str, message: str, location: str = "", prop: str = "") -> None:
        """Record one finding of this operation."""
        self.changes.append(Change(rule_id, message, self.operation, location, prop))

    def schemas(self, side: Side, location: str) -> SchemaDiffer:
        """A schema walker whose findings are recorded at ``location``."""

        def emit(rule_id: str, path: str, message: str) -> None:
            self.add(rule_id, message, location, path)

        return SchemaDiffer(self._old_resolver, self._new_resolver, side, emit)

    def _metadata(self) -> None:
        old, new = self._old.operation, self._new.operation
        if bool(old.get("deprecated")) != bool(new.get("deprecated")):
            if not new.get("deprecated"):
                self.add("endpoint-reactivated", "no longer deprecated")
            elif new.get("x-sunset"):
                self.add("endpoint-deprecated-with-sunset", f"deprecated, sunset {new['x-sunset']}")
            else:
                self.add("endpoint-deprecated", "now deprecated")
        old_id, new_id = old.get("operationId"), new.get("operationId")
        if old_id != new_id:
            if old_id is None:
                message = f"operationId {new_id} set (renames the generated function)"
                self.add("api-operation-id-added", message)
            else:
                renamed = f"renamed to {new_id}" if new_id else "removed"
                message = f"operationId {old_id} {renamed} (renames the generated function)"
                self.add("api-operation-id-removed", message)
        old_tags, new_tags = old.get("tags") or [], new.get("tags") or []
        for tag in old_tags:
            if tag not in new_tags:
                self.add("api-tag-removed", f"tag {tag!r} removed")
        for tag in new_tags:
            if tag not in old_tags:
                self.add("api-tag-added", f"tag {tag!r} added")

    def _request_body(self) -> None:
        old_raw = self._old.operation.get("requestBody")
        new_raw = self._new.operation.get("requestBody")
        if old_raw is None and new_raw is None:
            return
        new_body = self._new_resolver.deref(new_raw)[0]
        if old_raw is None:
            required = "required" if new_body.get("required") else "optional"
            self.add(f"request-body-added-{required}", f"added ({required})", "request body")
            return
        if new_raw is None:
            self.add("request-body-removed", "removed", "request body")
            return
        old_body = self._old_resolver.deref(old_raw)[0]
        if bool(old_body.get("required")) != bool(new_body.get("required")):
            kind = "became-required" if new_body.get("required") else "became-optional"
            self.add(f"request-body-{kind}", kind.replace("-", " "), "request body")
        self._media(old_body, new_body, _REQUEST_BODY, "request body", "request-body")

    def _media(
        self, old: dict[str, Any], new: dict[str, Any], side: Side, where: str, prefix: str
    ) -> None:
        """Compare the ``content`` of two bodies; ``prefix`` is the id prefix of media changes."""
        old_content, new_content = _content(old), _content(new)
        removed = old_content.keys() - new_content.keys()
        added = new_content.keys() - old_content.keys()
        renamed = _suffix_pairs(removed, added) if prefix == "response" else {}
        for media_type in sorted(removed - renamed.keys()):
            self.add(f"{prefix}-media-type-removed", f"media type {media_type} removed", where)
        for media_type in sorted(added - set(renamed.values())):
            self.add(f"{prefix}-media-type-added", f"media type {media_type} added", where)
        for was, now in renamed.items():
            # Clients that accepted the specific type may not accept the general one.
            kind = "generalized" if "+" in was else "specialized"
            message = f"media type {was} became {now}"
            self.add(f"response-media-type-name-{kind}", message, where)
        schema_prefix = side.root
        old_names, new_names = _names(old), _names(new)
        pairs = [(m, m) for m in old_content.keys() & new_content.keys()] + list(renamed.items())
        for media_type, new_type in pairs:
            if (
                prefix == "response"
                and media_type == new_type
                and old_names[media_type] != new_names[media_type]
            ):
                message = f"{old_names[media_type]} became {new_names[media_type]}"
                self.add("response-media-type-name-changed", message, where)
            location = f"{where} {new_type}"
            old_media, new_media = old_content[media_type], new_content[new_type]
            old_schema, new_schema = old_media.get("schema"), new_media.get("schema")
            if old_schema is None and new_schema is not None:
                self.add(f"{schema_prefix}-media-type-schema-added", "schema added", location)
            elif old_schema is not None and new_schema is None:
                self.add(f"{schema_prefix}-media-type-schema-removed", "schema removed", location)
            elif old_schema is not None:
                typed = dataclasses.replace(side, strong=_strongly_typed(new_type))
                self.schemas(typed, location).compare(old_schema, new_schema)

    def _responses(self) -> None:
        old = {str(k): v for k, v in mapping(self._old.operation, "responses").items()}
        new = {str(k): v for k, v in mapping(self._new.operation, "responses").items()}
        for code in old.keys() - new.keys():
            self.add(
                f"response-{_status_kind(code)}-status-removed",
                "status removed",
                f"response {code}",
            )
        for code in new.keys() - old.keys():
            self.add(
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
            raw = mapping(body, "headers")
            return {str(name).lower(): resolver.deref(h)[0] for name, h in raw.items()}

        old_headers = headers(old, self._old_resolver)
        new_headers = headers(new, self._new_resolver)
        for name in sorted(old_headers.keys() - new_headers.keys()):
            required = "required" if old_headers[name].get("required") else "optional"
            self.add(
                f"{required}-response-header-removed",
                f"{required} header removed",
                f"{where} header {name}",
            )
        for name in sorted(new_headers.keys() - old_headers.keys()):
            self.add("response-header-added", "header added", f"{where} header {name}")
        for name in old_headers.keys() & new_headers.keys():
            location = f"{where} header {name}"
            was, now = old_headers[name], new_headers[name]
            if bool(was.get("required")) != bool(now.get("required")):
                kind = "became-required" if now.get("required") else "became-optional"
                self.add(f"response-header-{kind}", kind.replace("-", " "), location)
            old_schema, new_schema = parameter_schema(was), parameter_schema(now)
            if old_schema is not None and new_schema is not None:
                self.schemas(_RESPONSE_HEADER, location).compare(old_schema, new_schema)

    def _security(self) -> None:
        old, new = self._old.operation, self._new.operation
        if "security" not in old and "security" not in new:
            return  # both inherit the document's requirements, compared once globally
        old_effective = old.get("security", self._old_doc.get("security"))
        new_effective = new.get("security", self._new_doc.get("security"))
        for rule_id, message in diff_security(old_effective, new_effective, "api-security"):
            self.add(rule_id, message, "security")
