"""``_config``: every default is listed in ``__all__``, and the version has one source."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect

import pleo_export
from pleo_export import _config


def test_all_lists_every_constant() -> None:
    """Each upper-case name ``_config`` assigns is in its ``__all__``; a new default left out of
    it fails here."""
    tree = ast.parse(inspect.getsource(_config))
    # The httpx defaults are declared under ``if TYPE_CHECKING:`` and made on first use.
    nodes = [n for top in tree.body for n in (top.body if isinstance(top, ast.If) else [top])]
    assigned = {
        target.id
        for node in nodes
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and target.id.isupper()
    }
    assert assigned == set(_config.__all__)


def test_version_comes_from_the_package_metadata() -> None:
    """``__version__``, ``SDK_VERSION``, the User-Agent and the installed metadata (which
    pyproject.toml takes from ``_config``) agree; a second version literal that drifts fails
    here."""
    installed = importlib.metadata.version("pleo-export")
    assert pleo_export.__version__ == _config.SDK_VERSION == installed
    assert _config.USER_AGENT.startswith(f"pleo-export-python/{installed} ")
