"""Hostile spec documents end in bounded time and memory with exit status 2 and one line.

Each case runs the real command line in a subprocess that reports its own peak RSS, and is held
against a run on a tiny valid spec measured in the same test: peak memory within a fixed margin
of it, wall time within a generous multiple of it (a guard against the hangs and blow-ups these
inputs caused, not a speed figure). Servers are loopback only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pleo_export.spec import SpecError, diff_specs, load_document

#: Runs one of the two command lines and writes its peak RSS (KiB) to $RSS_OUT, whatever happens.
_MEASURED = textwrap.dedent(
    """
    import os, resource, sys
    try:
        if sys.argv[1] == "pleo-export":
            from pleo_export._cli import main
            code = main(["spec", "diff", *sys.argv[2:]])
        else:
            from pleo_export.spec._cli import main
            code = main(sys.argv[2:])
    finally:
        with open(os.environ["RSS_OUT"], "w") as out:
            out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    sys.exit(code)
    """
)
_RSS_MARGIN_KIB = 64 * 1024  # a hostile document may cost this much more memory than a tiny one
_TIME_FACTOR = 10  # … and this many times the wall time (plus a few seconds of slack)


def _run(
    tmp_path: Path, door: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], int, float]:
    rss_file = tmp_path / f"rss-{time.monotonic_ns()}"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, door, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "RSS_OUT": str(rss_file)},
    )
    return result, int(rss_file.read_text()), time.monotonic() - started


@pytest.fixture
def ok_spec(tmp_path: Path) -> Path:
    path = tmp_path / "ok.yaml"
    path.write_text("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths: {}\n")
    return path


def _assert_refused(
    tmp_path: Path, ok_spec: Path, door: str, hostile: str, *extra: str, says: str
) -> None:
    """The hostile run exits 2 with one line naming the problem, within the memory and time
    bounds of a baseline run. Fails if the guard is removed (a traceback, exit 1, or a hang
    past the bound) or if the message changes meaning."""
    baseline, base_rss, base_time = _run(tmp_path, door, str(ok_spec), str(ok_spec))
    assert baseline.returncode == 0, baseline.stderr
    result, rss, elapsed = _run(tmp_path, door, str(ok_spec), hostile, *extra)
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1, lines[:5]
    assert says in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert rss <= base_rss + _RSS_MARGIN_KIB, (rss, base_rss)
    assert elapsed <= _TIME_FACTOR * base_time + 5, (elapsed, base_time)


@pytest.mark.parametrize("door", ["python -m", "pleo-export"])
def test_json_nested_100k_deep(tmp_path: Path, ok_spec: Path, door: str) -> None:
    """Before: a traceback (json's RecursionError) or "unexpected RecursionError"."""
    path = tmp_path / "deep.json"
    path.write_text('{"openapi": "3.0.1", "paths": {}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _assert_refused(tmp_path, ok_spec, door, str(path), says="nested deeper than 128 levels")


def test_yaml_nested_deeper_than_the_bound(tmp_path: Path, ok_spec: Path) -> None:
    """YAML that parses (libyaml stops at 1,000) but nests 500 deep is refused before the walker
    recurses into it."""
    path = tmp_path / "deep.yaml"
    path.write_text("openapi: 3.0.1\npaths: {}\nx: " + "[" * 500 + "]" * 500 + "\n")
    _assert_refused(tmp_path, ok_spec, "python -m", str(path), says="nested deeper than 128")


@pytest.mark.parametrize("door", ["python -m", "pleo-export"])
def test_self_containing_yaml_anchor(tmp_path: Path, ok_spec: Path, door: str) -> None:
    """``&a [*a]`` builds a list that contains itself; walking it never ends without the bound."""
    path = tmp_path / "self.yaml"
    path.write_text("openapi: 3.0.1\npaths: {}\nx: &a [*a]\n")
    _assert_refused(tmp_path, ok_spec, door, str(path), says="or contains itself")


def _alias_bomb() -> str:
    """Under 2 kB of YAML whose enum expands to 10^9 values through eight levels of aliases."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    return (
        "openapi: 3.0.1\nx-levels:\n"
        + "".join(f"  {line}\n" for line in levels)
        + "paths:\n  /p:\n    get:\n      responses:\n        '200':\n          description: d\n"
        "          content:\n            application/json:\n"
        "              schema: {type: string, enum: *a8}\n"
    )


@pytest.mark.parametrize("door", ["python -m", "pleo-export"])
def test_yaml_alias_bomb_used_as_an_enum(tmp_path: Path, ok_spec: Path, door: str) -> None:
    """Before: past 25 s (the enum comparison walks every expanded value)."""
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb())
    assert path.stat().st_size < 2000
    _assert_refused(tmp_path, ok_spec, door, str(path), says="YAML aliases expand it beyond")


def test_small_honest_aliases_are_read(tmp_path: Path) -> None:
    """The expansion bound does not refuse ordinary anchors (a schema reused a few times)."""
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "openapi: 3.0.1\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: &status {type: string, enum: [a, b, c]}\n    B: *status\n    C: *status\n"
    )
    assert load_document(str(path))["components"]["schemas"]["C"]["enum"] == ["a", "b", "c"]


def test_multi_hundred_megabyte_file(tmp_path: Path, ok_spec: Path) -> None:
    """A 300 MB (sparse) file is refused by its size, never read into memory."""
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    _assert_refused(tmp_path, ok_spec, "python -m", str(path), says="is larger than")


class _Loopback:
    """A loopback server that answers every connection with ``respond`` and counts them."""

    def __init__(self, respond: object) -> None:
        self.hits = 0
        self._respond = respond
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.hits += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                self._respond(connection, self._stop)  # type: ignore[operator]
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


def _drip(connection: socket.socket, stop: threading.Event) -> None:
    """Headers promising a megabyte, then one byte every 0.5 s until the client leaves."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\nopenapi: 3.0.1\n")
    while not stop.wait(0.5):
        connection.sendall(b"#")


def _spec(connection: socket.socket, stop: threading.Event) -> None:
    body = b"openapi: 3.0.1\npaths: {}\ncomponents: {schemas: {A: {type: integer}}}\n"
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


@pytest.fixture
def drip_server() -> Iterator[_Loopback]:
    server = _Loopback(_drip)
    yield server
    server.close()


@pytest.fixture
def spec_server() -> Iterator[_Loopback]:
    server = _Loopback(_spec)
    yield server
    server.close()


def test_url_that_drips_one_byte_every_half_second(
    tmp_path: Path, ok_spec: Path, drip_server: _Loopback
) -> None:
    """Before: read for ever (httpx's timeout is per read, and each read gets a byte in time).
    The fetch deadline bounds the whole download."""
    _assert_refused(
        tmp_path,
        ok_spec,
        "python -m",
        f"{drip_server.url}/spec.yaml",
        "--fetch-timeout",
        "2",
        says="took over 2 s",
    )


def test_ref_to_a_file_outside_the_folder_is_not_read(tmp_path: Path, ok_spec: Path) -> None:
    """A ``$ref`` to ``../outside.yaml`` is refused by name; the file is never opened (it is
    unreadable here, so opening it would fail differently)."""
    folder = tmp_path / "specs"
    folder.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("A: {type: string}\n")
    outside.chmod(0)
    spec = folder / "spec.yaml"
    spec.write_text(
        "openapi: 3.0.1\npaths: {}\ncomponents: {schemas: {A: {$ref: '../outside.yaml#/A'}}}\n"
    )
    try:
        _assert_refused(tmp_path, ok_spec, "python -m", str(spec), says="points outside")
    finally:
        outside.chmod(0o600)


def test_ref_to_a_url_is_never_fetched(
    tmp_path: Path, ok_spec: Path, spec_server: _Loopback
) -> None:
    """A ``$ref`` to a URL the user did not pass is refused and never fetched (no connection
    reaches the server), while the same server is read when named on the command line."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "openapi: 3.0.1\npaths: {}\n"
        f"components: {{schemas: {{A: {{$ref: '{spec_server.url}/remote.yaml#/A'}}}}}}\n"
    )
    _assert_refused(tmp_path, ok_spec, "python -m", str(spec), says="points outside")
    assert spec_server.hits == 0
    assert load_document(f"{spec_server.url}/given.yaml")["components"]["schemas"]["A"]
    assert spec_server.hits == 1


def test_ref_cycle_through_composition_ends(tmp_path: Path) -> None:
    """``A → allOf → B → oneOf → A`` (and a chain of 500 distinct ``$ref``s) diff in bounded
    depth: no RecursionError, and the change at the top is still seen."""
    chain = {
        f"C{i}": {"properties": {"x": {"$ref": f"#/components/schemas/C{i + 1}"}}}
        for i in range(500)
    }

    def document(kind: str) -> dict[str, object]:
        schemas: dict[str, object] = {
            "A": {
                "allOf": [{"$ref": "#/components/schemas/B"}],
                "properties": {"k": {"type": kind}},
            },
            "B": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}]},
            **chain,
        }
        response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}
        chained = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/C0"}}}}
        return {
            "openapi": "3.0.1",
            "paths": {
                "/a": {"get": {"responses": {"200": response}}},
                "/c": {"get": {"responses": {"200": chained}}},
            },
            "components": {"schemas": schemas},
        }

    ids = {change.id for change in diff_specs(document("string"), document("integer"))}
    assert "response-property-type-changed" in ids


def test_library_refuses_the_same_documents(tmp_path: Path) -> None:
    """``load_document`` raises ``SpecError`` (a ``PleoError``), not a RecursionError."""
    path = tmp_path / "self.yaml"
    path.write_text("openapi: 3.0.1\npaths: {}\nx: &a {y: *a}\n")
    with pytest.raises(SpecError, match="contains itself"):
        load_document(str(path))
