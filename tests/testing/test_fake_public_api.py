"""The shape of ``pleo_export.testing``: its exports, its independence from the SDK, its plugin."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import httpx
import pytest

import pleo_export.testing as testing
from pleo_export.testing import FakePleo, ManualClock

_PACKAGE = Path(testing.__file__).parent


def _ruff_order(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_lists_every_public_name_sorted() -> None:
    """`__all__` is sorted and matches the package's public, non-module names exactly."""
    public = {
        name
        for name, value in vars(testing).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(testing.__all__) == public
    assert testing.__all__ == sorted(testing.__all__, key=_ruff_order)


def test_public_classes_are_documented_under_the_package() -> None:
    """Every exported class has a docstring and reports `pleo_export.testing` as its module."""
    for name in testing.__all__:
        value = getattr(testing, name)
        if inspect.isclass(value):
            assert value.__doc__, name
            assert value.__module__ == "pleo_export.testing", name


def test_modules_are_private_small_and_declare_all() -> None:
    """Every module but the plugin is private, documented, declares __all__ and stays small."""
    for info in pkgutil.iter_modules([str(_PACKAGE)]):
        module = importlib.import_module(f"pleo_export.testing.{info.name}")
        assert module.__doc__, info.name
        assert info.name.startswith("_") or info.name == "pytest_plugin", info.name
        assert hasattr(module, "__all__"), info.name
        lines = len(Path(str(module.__file__)).read_text().splitlines())
        assert lines <= 350, f"{info.name} has {lines} lines"


def test_the_fake_never_imports_the_sdk() -> None:
    """No module of the fake imports the SDK or the generated client: the rules stay independent."""
    for path in _PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("pleo_export_raw"), (path.name, name)
                if name.startswith("pleo_export"):
                    assert name.startswith("pleo_export.testing"), (path.name, name)


def test_plugin_is_registered(request: pytest.FixtureRequest) -> None:
    """The pytest plugin is loaded under the name `pleo_export`."""
    assert request.config.pluginmanager.get_plugin("pleo_export") is not None


async def test_plugin_fixtures_fit_together(
    fake_pleo: FakePleo,
    fake_pleo_clock: ManualClock,
    fake_pleo_transport: httpx.AsyncBaseTransport,
    fake_pleo_server: str,
) -> None:
    """The fixtures share one fake: its clock, an in-process transport and a TCP server."""
    assert fake_pleo.clock is fake_pleo_clock
    job_id = fake_pleo.add_job(items=1)
    async with httpx.AsyncClient(transport=fake_pleo_transport, base_url="http://pleo") as http:
        local = await http.get(f"/v3/export-jobs/{job_id}", auth=("pleo-test-key", ""))
    async with httpx.AsyncClient(base_url=fake_pleo_server) as http:
        remote = await http.get(
            f"/v3/export-jobs/{job_id}", headers={"authorization": "Bearer pleo-test-token"}
        )
    assert local.json() == remote.json()
    assert fake_pleo.request_counts["getExportJobByIdV3"] == 2
