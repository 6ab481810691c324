"""Vendoring the upstream spec: deterministic, prose-free, provenance recorded, facts kept."""

from __future__ import annotations

import copy
import functools
import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonpath_rfc9535
import pytest
import yaml
from openapi_spec_validator import validate

from scripts._spec_io import REPO_ROOT
from scripts.vendor_spec import DEFAULT_OVERLAY, main, recorded_source, vendor

#: A byte-identical copy of ``../shared/reference/pleo-export-openapi.yml`` (32.1.0), so these
#: tests never need ``../shared``; the committed spec records that file's sha256.
REFERENCE = REPO_ROOT / "tests" / "data" / "spec" / "pleo-export-openapi-32.1.0.yml"
#: Where the committed spec says it was vendored from.
RECORDED = "../shared/reference/pleo-export-openapi.yml"
VENDORED = REPO_ROOT / "openapi" / "pleo-export.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PROSE_KEYS = ("description", "summary")
DATA_KEYS = ("example", "examples", "default", "enum")

Pointer = tuple[str | int, ...]


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    """The upstream 32.1.0 spec as published."""
    return yaml.safe_load(REFERENCE.read_bytes())


@pytest.fixture(scope="module")
def vendored_text() -> str:
    """A fresh vendoring of the reference with our overlay, under the source name the
    committed spec records (the copy's bytes are the upstream's; only its path differs)."""
    return _with_recorded_source(vendor(str(REFERENCE)), RECORDED)


@pytest.fixture(scope="module")
def vendored(vendored_text: str) -> dict[str, Any]:
    """The fresh vendoring, parsed."""
    return yaml.safe_load(vendored_text)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A vendoring of the reference with an empty overlay: prose stripped, nothing else changed."""
    overlay = tmp_path_factory.mktemp("overlay") / "empty.yaml"
    overlay.write_text("overlay: 1.0.0\ninfo: {title: empty, version: 1.0.0}\nactions: []\n")
    return yaml.safe_load(vendor(str(REFERENCE), overlay))


@pytest.fixture(scope="module")
def overlay() -> dict[str, Any]:
    """Our overlay document."""
    return yaml.safe_load(DEFAULT_OVERLAY.read_bytes())


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _without_prose(node: Any, parent: str | None = None) -> Any:
    """Our own prose stripper, written apart from vendor_spec's so one bug cannot hide in both."""
    if isinstance(node, list):
        return [_without_prose(item, parent) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if parent != "properties" and key in (*PROSE_KEYS, "externalDocs"):
            continue
        if parent is None and key == "info":
            value = {k: v for k, v in value.items() if k in ("title", "version", "license")}
        out[key] = value if key in DATA_KEYS else _without_prose(value, key)
    return out


def _without_response_descriptions(spec: dict[str, Any]) -> dict[str, Any]:
    """Drop response descriptions, which vendoring writes in its own words (OpenAPI needs one)."""
    spec = copy.deepcopy(spec)
    for _, _, operation in _operations(spec):
        for response in operation.get("responses", {}).values():
            response.pop("description", None)
    spec["info"].pop("x-upstream", None)
    return spec


def _prose_strings(node: Any, parent: str | None = None) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if parent != "properties" and key in PROSE_KEYS and isinstance(value, str):
                yield value
            elif key not in DATA_KEYS:
                yield from _prose_strings(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _prose_strings(item, parent)


def _scalars(node: Any) -> Iterator[str]:
    """Every string in a document, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _scalars(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scalars(item)
    elif isinstance(node, str):
        yield node


def _diff(old: Any, new: Any, at: Pointer = ()) -> Iterator[Pointer]:
    """Pointers at which two documents differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key not in old or key not in new:
                yield (*at, key)
            else:
                yield from _diff(old[key], new[key], (*at, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _diff(a, b, (*at, index))
    elif old != new:
        yield at


def test_vendoring_is_byte_stable() -> None:
    """Vendoring the same source twice gives identical bytes."""
    assert vendor(str(REFERENCE)) == vendor(str(REFERENCE))


def test_committed_spec_is_a_fresh_vendoring(vendored_text: str) -> None:
    """The committed openapi/pleo-export.yaml is exactly what vendoring the reference gives."""
    assert VENDORED.read_text(encoding="utf-8") == vendored_text, (
        "openapi/pleo-export.yaml is stale: run `make vendor`"
    )


def test_provenance_is_recorded(vendored: dict[str, Any]) -> None:
    """info.x-upstream names the source, its version and the sha256 of its bytes."""
    assert vendored["info"]["x-upstream"] == {
        "source": RECORDED,
        "version": "32.1.0",
        "sha256": hashlib.sha256(REFERENCE.read_bytes()).hexdigest(),
    }
    assert vendored["info"]["version"] == "32.1.0"


def test_no_upstream_prose_survives(source: dict[str, Any], vendored: dict[str, Any]) -> None:
    """No upstream description or summary text appears anywhere in the vendored spec."""
    data = set(_scalars(_without_prose(source)))  # example messages may repeat prose: they stay
    prose = {text.strip() for text in _prose_strings(source)} - data - {""}
    assert len(prose) > 200  # the reference really is wordy; an empty set would prove nothing
    kept = sorted(s for s in _scalars(vendored) if s.strip() in prose)
    long_prose = [p for p in prose if len(p) >= 40]
    inside = sorted(
        {p for p in long_prose for s in _scalars(vendored) if p in s and s.strip() not in data}
    )
    assert not kept, f"upstream prose kept verbatim: {kept[:5]}"
    assert not inside, f"upstream prose kept inside other text: {inside[:5]}"


def _overlay_summaries(overlay: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(path, method) → the summary our overlay writes for that operation."""
    summaries: dict[tuple[str, str], str] = {}
    for action in overlay["actions"]:
        match = re.fullmatch(r"\$\.paths\['([^']+)'\]\.(\w+)", action["target"])
        update = action.get("update")
        if match and isinstance(update, dict) and "summary" in update:
            summaries[(match[1], match[2])] = update["summary"]
    return summaries


def test_only_our_words_remain(vendored: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Every summary is one of our overlay's, and response descriptions are our short form."""
    ours = set(_overlay_summaries(overlay).values())
    for path, method, operation in _operations(vendored):
        assert operation.get("summary") in ours, f"{method.upper()} {path}"
        assert "description" not in operation, f"{method.upper()} {path}"
        for status, response in operation["responses"].items():
            assert re.fullmatch(
                rf"{status} with (no body|a JSON body|\w+)", response["description"]
            )


def test_overlay_summarises_all_30_operations(
    vendored: dict[str, Any], overlay: dict[str, Any]
) -> None:
    """Each of the 30 operations carries the summary its overlay action gives it."""
    expected = _overlay_summaries(overlay)
    actual = {(path, method): op.get("summary") for path, method, op in _operations(vendored)}
    assert len(actual) == 30
    assert actual == expected


def test_property_names_that_look_like_prose_survive(tmp_path: Path) -> None:
    """A property called `description` or `summary` is a fact and is kept; its own prose is not."""
    spec = {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1", "description": "gone"},
        "paths": {},
        "components": {
            "schemas": {
                "Thing": {
                    "description": "gone",
                    "type": "object",
                    "properties": {
                        "description": {"type": "string", "description": "gone"},
                        "summary": {"type": "string", "example": "kept"},
                    },
                }
            }
        },
    }
    source = tmp_path / "spec.yaml"
    source.write_text(yaml.safe_dump(spec))
    empty = tmp_path / "overlay.yaml"
    empty.write_text("overlay: 1.0.0\ninfo: {title: empty, version: 1.0.0}\nactions: []\n")
    thing = yaml.safe_load(vendor(str(source), empty))["components"]["schemas"]["Thing"]
    assert thing == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "summary": {"type": "string", "example": "kept"},
        },
    }
    assert "gone" not in vendor(str(source), empty)


def test_stripping_keeps_every_contract_fact(source: dict[str, Any], bare: dict[str, Any]) -> None:
    """Without the overlay, the vendored spec is the source minus prose, structurally equal."""
    expected = _without_response_descriptions(_without_prose(source))
    actual = _without_response_descriptions(bare)
    differences = ["/".join(map(str, p)) for p in _diff(expected, actual)]
    assert not differences, f"vendoring changed facts at: {differences[:10]}"


def test_overlay_changes_only_what_it_targets(
    bare: dict[str, Any], vendored: dict[str, Any], overlay: dict[str, Any]
) -> None:
    """Every difference the overlay makes lies at or under a node one of its actions targets."""
    targets: set[Pointer] = set()
    for action in overlay["actions"]:
        for node in jsonpath_rfc9535.find(action["target"], bare):
            targets.add(tuple(node.location))
    differences = [p for p in _diff(bare, vendored) if p[:2] != ("info", "x-upstream")]
    assert differences
    stray = [p for p in differences if not any(p[: len(t)] == t for t in targets)]
    assert not stray, f"changes no overlay action asked for: {stray[:10]}"


def _facts(spec: dict[str, Any], kind: str) -> dict[Pointer, Any]:
    """One kind of contract fact in a spec, keyed by where it sits."""
    operations = [(("paths", path, method), op) for path, method, op in _operations(spec)]
    if kind == "paths and methods":
        return dict.fromkeys((at for at, _ in operations), True)
    if kind == "operationIds":
        return {(*at, "operationId"): op["operationId"] for at, op in operations}
    if kind == "parameters":
        return {
            (*at, "parameters", index): _without_prose(parameter)
            for at, op in operations
            for index, parameter in enumerate(op.get("parameters", []))
        }
    if kind == "deprecated flags":
        return {(*at, "deprecated"): op.get("deprecated", False) for at, op in operations}
    if kind == "servers":
        return {("servers", index, "url"): s["url"] for index, s in enumerate(spec["servers"])}
    if kind == "security":
        schemes = spec["components"]["securitySchemes"]
        return {("security",): spec.get("security")} | {
            ("components", "securitySchemes", name): _without_prose(scheme, "securitySchemes")
            for name, scheme in schemes.items()
        }
    if kind == "x- extensions":
        return {
            p: v
            for p, v in _walk(spec)
            if isinstance(p[-1], str) and p[-1].startswith("x-") and p[-1] != "x-upstream"
        }
    if kind == "examples":
        return {p: v for p, v in _walk(spec) if p[-1] in ("example", "examples")}
    raise AssertionError(kind)


def _walk(node: Any, at: Pointer = ()) -> Iterator[tuple[Pointer, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*at, key), value
            yield from _walk(value, (*at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*at, index))


@pytest.mark.parametrize(
    "kind",
    [
        "paths and methods",
        "operationIds",
        "parameters",
        "deprecated flags",
        "servers",
        "security",
        "x- extensions",
        "examples",
    ],
)
def test_contract_facts_survive_the_overlay(
    source: dict[str, Any], bare: dict[str, Any], vendored: dict[str, Any], kind: str
) -> None:
    """Each kind of source fact is in the committed vendored spec, except where the overlay acts."""
    changed = [p for p in _diff(bare, vendored) if p[:2] != ("info", "x-upstream")]

    existence = kind == "paths and methods"  # a summary added inside an operation is no change

    def untouched(facts: dict[Pointer, Any]) -> dict[Pointer, Any]:
        return {
            at: value
            for at, value in facts.items()
            if not any(at[: len(c)] == c or (c[: len(at)] == at and not existence) for c in changed)
        }

    expected = untouched(_facts(source, kind))
    assert expected  # the overlay leaves most of each kind alone: the comparison is not vacuous
    assert untouched(_facts(vendored, kind)) == expected


def test_parameter_style_and_explode_are_kept(
    source: dict[str, Any], vendored: dict[str, Any]
) -> None:
    """Each parameter keeps its `style` and `explode` (how lists are serialised on the wire)."""

    def styles(spec: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
        return [
            (op["operationId"], p["name"], p.get("style"), p.get("explode"))
            for _, _, op in _operations(spec)
            for p in op.get("parameters", [])
        ]

    assert any(style for *_, style, _ in styles(source))  # the comparison is not vacuous
    assert styles(vendored) == styles(source)


def test_enums_keep_every_upstream_value(source: dict[str, Any], vendored: dict[str, Any]) -> None:
    """Every enum keeps its upstream values in order; the overlay only appends null."""
    upstream = {p: v for p, v in _walk(source) if p[-1] == "enum"}
    ours = {p: v for p, v in _walk(vendored) if p[-1] == "enum"}
    assert set(upstream) == set(ours)
    for pointer, values in upstream.items():
        assert ours[pointer][: len(values)] == values, pointer
        assert ours[pointer][len(values) :] in ([], [None]), pointer


def test_stale_overlay_action_fails_clearly(tmp_path: Path) -> None:
    """An overlay action whose target matches nothing stops vendoring and names the target."""
    overlay = yaml.safe_load(DEFAULT_OVERLAY.read_bytes())
    overlay["actions"].append(
        {"target": "$.paths['/v9/nowhere'].get", "update": {"summary": "gone"}}
    )
    stale = tmp_path / "overlay.yaml"
    stale.write_text(yaml.safe_dump(overlay))
    with pytest.raises(ValueError, match=r"targets nothing: \$\.paths\['/v9/nowhere'\]\.get"):
        vendor(str(REFERENCE), stale)


def test_vendored_spec_is_valid_openapi(vendored: dict[str, Any]) -> None:
    """The vendored spec passes openapi-spec-validator."""
    validate(vendored)


def _with_recorded_source(text: str, source: str) -> str:
    return re.sub(r"(?m)^    source: .*$", f"    source: {source}", text, count=1)


def test_without_source_a_recorded_path_gives_a_usage_line(
    tmp_path: Path, vendored_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make vendor`` without SOURCE, when the recorded source is a path (here
    ``../shared/...``), exits 2 naming ``SOURCE=`` and leaves the output alone; a traceback
    or a write fails this."""
    out = tmp_path / "pleo-export.yaml"
    out.write_text(vendored_text)
    assert main(["--output", str(out)]) == 2
    assert "usage: make vendor SOURCE=" in capsys.readouterr().err
    assert out.read_text() == vendored_text


def test_without_source_a_recorded_url_is_fetched_again(tmp_path: Path, vendored_text: str) -> None:
    """``make vendor`` without SOURCE fetches the recorded ``info.x-upstream.source`` URL (a
    loopback server here) and vendors it; ignoring the recorded URL fails this."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "spec.yml").write_bytes(REFERENCE.read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/spec.yml"
        out = tmp_path / "pleo-export.yaml"
        out.write_text(_with_recorded_source(vendored_text, url))
        try:
            assert main(["--output", str(out)]) == 0
        finally:
            server.shutdown()
    assert recorded_source(out) == url
    assert out.read_text() == _with_recorded_source(vendored_text, url)


def test_an_unreadable_source_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SOURCE that does not exist exits 2 with one ``cannot read`` line."""
    assert main([str(tmp_path / "missing.yml"), "--output", str(tmp_path / "out.yaml")]) == 2
    assert capsys.readouterr().err.startswith("vendor_spec: cannot read ")
