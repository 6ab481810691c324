"""Security: requirement lists (document or operation level) and the security schemes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._change import Change

__all__ = ["diff_security", "diff_security_schemes"]


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


def _components(document: dict[str, Any], section: str) -> dict[str, Any]:
    components = document.get("components") or {}
    entries = components.get(section) or {}
    return entries if isinstance(entries, dict) else {}


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


def _diff_flows(name: str, old: Any, new: Any) -> Iterator[Change]:
    """OAuth flows of one scheme: URLs and scopes."""
    where = "components.securitySchemes"
    old_flows, new_flows = (old or {}).get("flows") or {}, (new or {}).get("flows") or {}
    for flow in old_flows.keys() & new_flows.keys():
        was, now = old_flows[flow] or {}, new_flows[flow] or {}
        for key, rule_id in (
            ("authorizationUrl", "api-security-component-oauth-url-changed"),
            ("tokenUrl", "api-security-component-oauth-token-url-changed"),
        ):
            if was.get(key) != now.get(key):
                yield Change(rule_id, f"scheme {name} {flow} {key} changed", None, where)
        old_scopes, new_scopes = was.get("scopes") or {}, now.get("scopes") or {}
        for scope in sorted(new_scopes.keys() - old_scopes.keys()):
            message = f"scheme {name} scope {scope} added"
            yield Change("api-security-component-oauth-scope-added", message, None, where)
        for scope in sorted(old_scopes.keys() - new_scopes.keys()):
            message = f"scheme {name} scope {scope} removed"
            yield Change("api-security-component-oauth-scope-removed", message, None, where)
        for scope in sorted(old_scopes.keys() & new_scopes.keys()):
            if old_scopes[scope] != new_scopes[scope]:
                message = f"scheme {name} scope {scope} changed"
                yield Change("api-security-component-oauth-scope-changed", message, None, where)


def diff_security_schemes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    """Schemes under ``components.securitySchemes`` added, removed, retyped, or with OAuth
    flows changed."""
    old_schemes = _components(old, "securitySchemes")
    new_schemes = _components(new, "securitySchemes")
    where = "components.securitySchemes"
    for name, scheme in old_schemes.items():
        if name not in new_schemes:
            yield Change("api-security-component-removed", f"scheme {name} removed", None, where)
        elif _scheme_signature(scheme) != _scheme_signature(new_schemes[name]):
            message = f"scheme {name} changed its type, scheme or location"
            yield Change("api-security-component-type-changed", message, None, where)
        else:
            yield from _diff_flows(name, scheme, new_schemes[name])
    for name in new_schemes:
        if name not in old_schemes:
            yield Change("api-security-component-added", f"scheme {name} added", None, where)
