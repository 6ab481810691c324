"""The public surface: ``__all__`` of ``pleo_export`` and ``pleo_export.models``, lazy imports
(PEP 562), and the one-way dependency on the generated ``pleo_export_raw`` package."""

from __future__ import annotations

import ast
import enum
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest

import pleo_export
import pleo_export.models

SRC = Path(pleo_export.__file__).parent
#: The only places allowed to import the generated package (STYLE.md rule 4).
RAW_IMPORTERS = ("_wire/", "models.py")


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_all_is_sorted_and_unique() -> None:
    """``pleo_export.__all__`` is in sorted order with no duplicates."""
    assert pleo_export.__all__ == sorted(set(pleo_export.__all__))


def test_all_equals_the_public_names() -> None:
    """Every lazily exported name is in ``__all__`` and nothing else is, and dir() agrees."""
    lazy = set(pleo_export._EXPORTS)
    assert set(pleo_export.__all__) == lazy | {"__version__"}
    assert sorted(dir(pleo_export)) == sorted(pleo_export.__all__)
    assert not [
        name for name in pleo_export.__all__ if name.startswith("_") and name != "__version__"
    ]


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a module binds itself at top level (a class, a function, an assignment), not
    those it imports."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(target.id for target in targets if isinstance(target, ast.Name))
    return found


def test_the_lazy_map_names_the_defining_module() -> None:
    """Each ``_EXPORTS`` entry points at the module that defines the name, not one that
    re-exports it, so ``from pleo_export import Booked`` loads ``_outcome``, not the worker.
    Fails if an entry names a re-exporting module (``"Booked": "_worker"``)."""
    wrong = {}
    for name, module in pleo_export._EXPORTS.items():
        path = SRC.joinpath(*module.split(".")).with_suffix(".py")
        if name not in _top_level_names(ast.parse(path.read_text(encoding="utf-8"))):
            wrong[name] = module
    assert wrong == {}


@pytest.mark.parametrize("name", pleo_export.__all__)
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    """Each name in ``__all__`` resolves, and each class or function has a docstring."""
    value = getattr(pleo_export, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__doc__, name
    assert getattr(pleo_export, name) is value  # cached after the first lookup


def test_unknown_attribute_raises_attribute_error() -> None:
    """A name that is not exported raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pleo_export.Nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = pleo_export.models.Nope  # type: ignore[attr-defined]


def test_import_is_lazy() -> None:
    """Each step loads only what it needs: ``import pleo_export`` nothing, ``PleoExport`` no
    httpx and no generated code, a client httpx but no model, ``pleo.jobs`` its models; fails
    if a module-level import pulls one of them in early."""
    result = _run(
        """
        import json, sys
        def loaded():
            heavy = ("httpx", "pleo_export_raw")
            found = {m.split(".")[0] for m in sys.modules if m.startswith(heavy)}
            if any(m.startswith("pleo_export_raw.models.") for m in sys.modules):
                found.add("models")
            return sorted(found)
        import pleo_export
        steps = {"import": sorted(m for m in sys.modules if m.startswith("pleo_export"))}
        from pleo_export import PleoExport
        steps["name"] = loaded()
        pleo = PleoExport(api_key="k")
        steps["client"] = loaded()
        pleo.jobs
        steps["jobs"] = loaded()
        print(json.dumps(steps))
        """
    )
    assert result == {
        "import": ["pleo_export"],
        "name": [],
        "client": ["httpx", "pleo_export_raw"],
        "jobs": ["httpx", "models", "pleo_export_raw"],
    }


def test_every_name_resolves_in_a_fresh_interpreter() -> None:
    """Resolving every ``__all__`` name from a cold start works (no import-order dependence)."""
    result = _run(
        """
        import json
        import pleo_export, pleo_export.models
        models = pleo_export.models
        bad = [n for n in pleo_export.__all__ if getattr(pleo_export, n, None) is None]
        bad += [n for n in models.__all__ if getattr(models, n, None) is None]
        print(json.dumps({"bad": bad}))
        """
    )
    assert result["bad"] == []


def test_models_import_is_lazy_too() -> None:
    """``import pleo_export.models`` loads no generated module until a name is used."""
    result = _run(
        """
        import json, sys
        import pleo_export.models as models
        before = "pleo_export_raw.models" in sys.modules
        models.ExportJobV3
        print(json.dumps({"before": before, "after": "pleo_export_raw.models" in sys.modules}))
        """
    )
    assert result == {"before": False, "after": True}


def _raw_imports(path: Path) -> list[str]:
    """The ``pleo_export_raw`` modules a source file imports, at any depth of its AST."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "pleo_export_raw"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "pleo_export_raw":
                found.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            found += [a for a in args if isinstance(a, str) and a.startswith("pleo_export_raw")]
    return found


def test_only_the_seam_imports_the_generated_package() -> None:
    """Outside the _wire package and models.py, no module imports pleo_export_raw."""
    offenders = {
        str(path.relative_to(SRC)): _raw_imports(path)
        for path in sorted(SRC.rglob("*.py"))
        if not str(path.relative_to(SRC)).startswith(RAW_IMPORTERS) and _raw_imports(path)
    }
    assert offenders == {}
    assert _raw_imports(SRC / "_wire" / "_parse.py")  # the walk does see imports where they are


#: Private names of other libraries reached on purpose: argparse has no public name for the
#: type ``add_subparsers`` returns, and ``_value2member_map_`` is Enum's documented sunder table.
_FOREIGN_PRIVATE = {"argparse._SubParsersAction", "enum._value2member_map_"}
#: ``_api.version_of`` reads the client's journal and observer off an ``ApiVersion``, the class
#: it defines beside it: the one place they are read, so they stay off ``pleo.v3``'s surface.
_OWN_CLASS_PRIVATE = {"_api.py": {"version._coordinator", "version._observer"}}


def _private_reaches(path: Path) -> list[str]:
    """``x._name`` uses and ``from m import _name`` imports in a file, other than on self/cls."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            found += [
                f"from {node.module} import {a.name}" for a in node.names if _is_private(a.name)
            ]
        elif isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(ast.unparse(node))
    return [reach for reach in found if reach not in _FOREIGN_PRIVATE]


def _is_private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    sunder = name.startswith("_") and name.endswith("_") and not dunder
    return name.startswith("_") and not dunder and not sunder


def test_no_module_reaches_into_another_modules_private_members() -> None:
    """Outside the wire (which calls the generated builders' ``_get_kwargs``), no module uses a
    private member of another object or module: orchestration talks through the port only.

    It fails on, say, ``self._job_items._coerce(...)`` or ``from ._x import _helper``.
    """
    offenders = {
        str(path.relative_to(SRC)): reaches
        for path in sorted(SRC.rglob("*.py"))
        if not str(path.relative_to(SRC)).startswith("_wire/")
        and (
            reaches := [
                reach
                for reach in _private_reaches(path)
                if reach not in _OWN_CLASS_PRIVATE.get(str(path.relative_to(SRC)), ())
            ]
        )
    }
    assert offenders == {}
    assert _private_reaches(SRC / "_wire" / "_seam.py")  # the walk does see them where they are


def test_the_fake_never_imports_the_generated_package() -> None:
    """``pleo_export.testing`` is an independent reading of Pleo's rules: no generated code."""
    testing = SRC / "testing"
    assert list(testing.rglob("*.py"))
    assert {str(p.relative_to(SRC)): _raw_imports(p) for p in testing.rglob("*.py")} == {
        str(p.relative_to(SRC)): [] for p in testing.rglob("*.py")
    }


def test_models_all_is_complete_and_resolves() -> None:
    """``pleo_export.models`` exports each model and enum users receive, all resolvable."""
    names = set(pleo_export.models.__all__)
    assert len(names) == len(pleo_export.models.__all__)
    required = {
        "ExportJobV3",
        "ExportJob",
        "ExportJobItemV3",
        "ExportJobItem",
        "ExportItemV3",
        "ExportItemV2",
        "UpdateExportJobItemV3",
        "UpdateExportJobItem",
        "ExportJobItemUpdateV3",
        "ExportJobItemUpdate",
        "ExportJobStatus",
        "ExportJobEventType",
        "ExportJobFailureReasonType",
        "ExportJobItemStatus",
        "ExportJobItemFailureReasonType",
        "ExportJobItemFailureReasonTypeV2",
        "PageOrder",
        "UNSET",
        "Unset",
    }
    assert required <= names
    assert sorted(dir(pleo_export.models)) == sorted(names)
    for name in names:
        assert getattr(pleo_export.models, name) is not None


def _nested_types(cls: type, into: set[type]) -> None:
    """Every generated model or enum reachable from ``cls`` through its attrs fields."""
    import pleo_export_raw.models as generated

    if cls in into:
        return
    into.add(cls)
    if not attrs.has(cls):
        return
    for field in attrs.fields(cls):
        text = field.type if isinstance(field.type, str) else repr(field.type)
        for word in ast.walk(ast.parse(text.replace("|", "or"), mode="eval")):
            if isinstance(word, ast.Name) and word.id in generated.__all__:
                _nested_types(getattr(generated, word.id), into)


def test_models_cover_every_type_nested_in_what_users_receive() -> None:
    """Each model or enum reachable from jobs, items, export items and updates is re-exported."""
    roots = [
        "ExportJobV3",
        "ExportJob",
        "ExportJobItemV3",
        "ExportJobItem",
        "ExportItemV3",
        "ExportItemV2",
        "UpdateExportJobItemV3",
        "UpdateExportJobItem",
        "ExportJobItemUpdateV3",
        "ExportJobItemUpdate",
    ]
    reachable: set[type] = set()
    for root in roots:
        _nested_types(getattr(pleo_export.models, root), reachable)
    missing = sorted(c.__name__ for c in reachable if c.__name__ not in pleo_export.models.__all__)
    assert missing == []


def test_models_are_the_generated_classes() -> None:
    """The re-exports are the very classes the SDK returns, so isinstance checks hold."""
    from pleo_export_raw.models import ExportJobStatus, ExportJobV3

    assert pleo_export.models.ExportJobV3 is ExportJobV3
    assert pleo_export.models.ExportJobStatus is ExportJobStatus
    assert issubclass(pleo_export.models.ExportJobItemStatus, enum.StrEnum)
    archived = pleo_export.models.ExportJobStatus("archived")
    assert archived == "archived"
    assert not archived.is_known
