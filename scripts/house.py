"""Draw the house of a package from its own imports: floors, circles and imports that run up.

Read with ``ast`` from the hand-written sources (a module whose docstring says "do not edit" is
generated and left out), never by importing them. Four kinds of import:

* **module-level**: runs when the module is imported (also inside ``try``, a class body, or the
  ``else`` of ``if TYPE_CHECKING``);
* **lazy**: inside a function, so it runs when the function is called;
* **deferred**: a lazy import marked ``# deferred: <why>`` (on its line, in the comment right
  above it, or above the unbroken run of imports it belongs to): loaded late on purpose, to keep
  an import cheap, but a dependency all the same;
* **typing**: under ``if TYPE_CHECKING:``, so it never runs.

**Floors** are built by module-level and deferred imports: ``floor(m) = 1 + max(floor of the
package modules m imports so)``, and a module importing nothing of the package so is on floor 1.

**Faces and entry points stand on top.** A package's ``__init__`` (its face), each ``__main__``,
and each module ``pyproject.toml`` names as a script or entry point count every import they make
for their floor: they are loaded first, from outside, and what they defer (a PEP 562 map, a
command loaded once the arguments are parsed, a pytest plugin's fixtures) is deferred on purpose.
A face is looked through: ``from pkg import Name`` depends on ``pkg.Name`` when that is a module,
else on the module the face re-exports ``Name`` from (eagerly, or lazily through a PEP 562 map
it mirrors under ``TYPE_CHECKING``), and on the face itself only for what the face defines;
``import pkg`` then ``pkg.Name`` likewise. So ``from pleo_export import PleoError`` depends on
``_errors``, not on everything. The implicit run of ``pkg/__init__`` when ``pkg.sub`` is
imported is not counted.

A **circle** is a strongly connected component of two or more modules over all four kinds. An
**import running up** is a lazy or typing import to a module on the same or a higher floor: a
layer reaching over its head, which a module-level or deferred import cannot do without a circle.

Usage: ``python -m scripts.house [PACKAGE_DIR]`` (default ``src/pleo_export``) prints the floors,
the top first, the tallest stack, then the circles and the imports running up.
"""

from __future__ import annotations

import argparse
import ast
import sys
import textwrap
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = [
    "House",
    "Import",
    "ImportKind",
    "build_house",
    "entry_points",
    "main",
    "read_imports",
    "render",
]

#: The package drawn when no directory is given.
DEFAULT_PACKAGE = Path(__file__).resolve().parent.parent / "src" / "pleo_export"
#: Words in a module docstring that mark it as written by a generator.
_GENERATED_MARK = "do not edit"


class ImportKind(Enum):
    """When an import runs."""

    MODULE = "module-level"
    LAZY = "lazy"
    DEFERRED = "deferred"
    TYPING = "TYPE_CHECKING"


@dataclass(frozen=True)
class Import:
    """One import of a package module by another: who, whom, where and when."""

    source: str
    target: str
    line: int
    kind: ImportKind


@dataclass(frozen=True)
class House:
    """The drawing: each module's floor, the circles, and the imports that run up."""

    floors: Mapping[str, int]
    circles: Sequence[tuple[str, ...]]
    upward: Sequence[Import]
    imports: Sequence[Import]
    tops: frozenset[str]

    @property
    def height(self) -> int:
        """The number of floors (0 for an empty package)."""
        return max(self.floors.values(), default=0)

    def tallest(self) -> list[str]:
        """One stack of module-level imports from the top floor down to floor 1."""
        if not self.floors:
            return []
        stack = [max(sorted(self.floors), key=lambda name: self.floors[name])]
        while self.floors[stack[-1]] > 1:
            below = sorted(
                edge.target
                for edge in self.imports
                if edge.source == stack[-1]
                and self.floors[edge.target] == self.floors[stack[-1]] - 1
                and (
                    edge.kind in (ImportKind.MODULE, ImportKind.DEFERRED)
                    or edge.source in self.tops
                )
            )
            if not below:
                break
            stack.append(below[0])
        return stack

    def on_floor(self, floor: int) -> list[str]:
        """The modules on one floor, sorted."""
        return sorted(name for name, level in self.floors.items() if level == floor)


@dataclass(frozen=True)
class _Source:
    name: str
    path: Path
    is_face: bool
    tree: ast.Module


def _module_names(root: Path) -> dict[str, _Source]:
    """Every hand-written module under ``root``, by dotted name (``pkg``, ``pkg.sub.mod``)."""
    sources: dict[str, _Source] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        parts = relative.parts
        is_face = parts[-1] == "__init__"
        if is_face:
            parts = parts[:-1]
        if any(part == "__pycache__" for part in parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstring = ast.get_docstring(tree) or ""
        if _GENERATED_MARK in docstring.lower():
            continue
        sources[".".join(parts)] = _Source(".".join(parts), path, is_face, tree)
    return sources


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _statements(
    body: Iterable[ast.stmt], kind: ImportKind
) -> Iterator[tuple[ast.stmt, ImportKind]]:
    """Every statement in ``body``, nested ones too, with when it runs."""
    for node in body:
        yield node, kind
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = ImportKind.TYPING if kind is ImportKind.TYPING else ImportKind.LAZY
            yield from _statements(node.body, inner)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(node.body, ImportKind.TYPING)
            yield from _statements(node.orelse, kind)
        else:
            for block in _blocks(node):
                yield from _statements(block, kind)


def _blocks(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists nested in a compound statement (``try``, ``with``, ``class``, …)."""
    for field in ("body", "orelse", "finalbody"):
        value = getattr(node, field, None)
        if isinstance(value, list):
            yield [child for child in value if isinstance(child, ast.stmt)]
    for clause in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
        if isinstance(clause, ast.ExceptHandler | ast.match_case):
            yield clause.body


def _walk_imports(
    body: Iterable[ast.stmt], kind: ImportKind
) -> Iterator[tuple[ast.Import | ast.ImportFrom, ImportKind]]:
    """Each import statement in ``body`` with when it runs."""
    for node, when in _statements(body, kind):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, when


def _annotations(statement: ast.stmt) -> list[ast.expr]:
    """The annotations a statement carries itself (not those of nested statements)."""
    if isinstance(statement, ast.AnnAssign):
        return [statement.annotation]
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        args = statement.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        found = [arg.annotation for arg in every if arg is not None and arg.annotation]
        return [*found, *([statement.returns] if statement.returns else [])]
    return []


def _attribute_uses(
    tree: ast.Module, names: Mapping[str, str]
) -> Iterator[tuple[str, str, int, ImportKind]]:
    """``alias.attr`` reads of the modules bound by ``import pkg`` (local name → module).

    Under ``from __future__ import annotations`` an annotation is never evaluated, so a read
    inside one is a typing use.
    """
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    for statement, when in _statements(tree.body, ImportKind.MODULE):
        annotations = _annotations(statement)
        read_as = ImportKind.TYPING if postponed else when
        parts: list[tuple[ast.AST, ImportKind]] = [(node, read_as) for node in annotations]
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                continue
            if isinstance(child, ast.arguments):
                parts.extend((default, when) for default in child.defaults)
                parts.extend((default, when) for default in child.kw_defaults if default)
            elif all(child is not annotation for annotation in annotations):
                parts.append((child, when))
        for part, kind in parts:
            for node in ast.walk(part):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in names
                ):
                    yield names[node.value.id], node.attr, node.lineno, kind


#: The comment that marks a lazy import as deferred on purpose.
_DEFERRED_MARK = "# deferred:"


def _deferred_lines(source: _Source) -> set[int]:
    """First lines of the lazy imports marked ``# deferred: …`` (see the module docstring)."""
    lines = source.path.read_text(encoding="utf-8").splitlines()
    imports = sorted(
        (node for node, _ in _walk_imports(source.tree.body, ImportKind.MODULE)),
        key=lambda node: node.lineno,
    )
    marked: set[int] = set()
    marked_ends: set[int] = set()
    previous_end = -1
    for node in imports:
        end = node.end_lineno or node.lineno
        own = any(_DEFERRED_MARK in line for line in lines[node.lineno - 1 : end])
        above = node.lineno - 2  # the 0-based index of the line above
        comment = False
        while above >= 0 and lines[above].strip().startswith("#"):
            comment = comment or _DEFERRED_MARK in lines[above]
            above -= 1
        run = previous_end == node.lineno - 1 and previous_end in marked_ends
        if own or comment or run:
            marked.add(node.lineno)
        previous_end = end
        if node.lineno in marked:
            marked_ends.add(end)
    return marked


def _base_module(source: _Source, node: ast.ImportFrom) -> str:
    """The absolute dotted name ``from <this> import …`` refers to."""
    if node.level == 0:
        return node.module or ""
    package = source.name.split(".") if source.is_face else source.name.split(".")[:-1]
    anchor = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join([*anchor, *([node.module] if node.module else [])])


def _shown_names(sources: Mapping[str, _Source]) -> dict[str, dict[str, str]]:
    """For each face: the names it re-exports (eagerly, or lazily under ``TYPE_CHECKING`` for a
    PEP 562 ``__getattr__``) → the package module that defines them.

    Names the face defines itself (a ``def``, a ``class``, an assignment) are left out: importing
    those depends on the face.
    """
    shown: dict[str, dict[str, str]] = {}
    for source in sources.values():
        if not source.is_face:
            continue
        names: dict[str, str] = {}
        for node, _kind in _walk_imports(source.tree.body, ImportKind.MODULE):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _base_module(source, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                where = sub if sub in sources else base
                if where in sources and where != source.name:
                    names[alias.asname or alias.name] = where
        for statement in source.tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.pop(statement.name, None)
            elif isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                for target in targets:
                    if isinstance(target, ast.Name):
                        names.pop(target.id, None)
        shown[source.name] = names
    return shown


def _targets(
    source: _Source,
    node: ast.Import | ast.ImportFrom,
    sources: Mapping[str, _Source],
    lazy: Mapping[str, Mapping[str, str]],
) -> Iterator[str]:
    """The package modules one import statement depends on."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            # ``import a.b.c`` depends on the deepest of a.b.c, a.b, a that is ours.
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in sources:
                    yield candidate
                    break
        return
    base = _base_module(source, node)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in sources:
            yield submodule
        elif alias.name in lazy.get(base, {}):
            yield lazy[base][alias.name]
        elif base in sources:
            yield base


def read_imports(root: Path) -> tuple[list[str], list[Import]]:
    """The package's module names and every import between them, sorted."""
    sources = _module_names(root)
    lazy = _shown_names(sources)
    found: set[Import] = set()
    for source in sources.values():
        # ``import pkg`` of a lazy face loads nothing until ``pkg.Name`` is read: the edge goes
        # from where ``pkg.Name`` is read to the module defining ``Name``.
        bound: dict[str, str] = {}
        deferred = _deferred_lines(source)
        for node, when in _walk_imports(source.tree.body, ImportKind.MODULE):
            marked = when is ImportKind.LAZY and node.lineno in deferred
            kind = ImportKind.DEFERRED if marked else when
            for target in _targets(source, node, sources, lazy):
                if isinstance(node, ast.Import) and sources[target].is_face:
                    alias = next(
                        a for a in node.names if a.name.split(".")[0] == target.split(".")[0]
                    )
                    if alias.name == target:
                        bound[alias.asname or alias.name] = target
                        continue
                if target != source.name:
                    found.add(Import(source.name, target, node.lineno, kind))
        for face, attr, line, kind in _attribute_uses(source.tree, bound):
            submodule = f"{face}.{attr}"
            target = submodule if submodule in sources else lazy[face].get(attr, face)
            if target != source.name:
                found.add(Import(source.name, target, line, kind))
    return sorted(sources), sorted(found, key=_order)


def _order(edge: Import) -> tuple[str, str, int, str]:
    return edge.source, edge.target, edge.line, edge.kind.value


def _circles(names: Sequence[str], imports: Iterable[Import]) -> list[tuple[str, ...]]:
    """Strongly connected components of two or more modules (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {name: set() for name in names}
    for edge in imports:
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    counter = 0
    for start in names:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(tuple(sorted(component)))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


def _floors(names: Sequence[str], imports: Sequence[Import], tops: set[str]) -> dict[str, int]:
    """Each module's floor over the imports that build floors (members of a circle share one)."""
    building = (ImportKind.MODULE, ImportKind.DEFERRED)
    builds = [edge for edge in imports if edge.kind in building or edge.source in tops]
    # Collapse circles among the floor-building imports so the recursion ends.
    group = {name: name for name in names}
    for component in _circles(names, builds):
        for member in component:
            group[member] = component[0]
    below: dict[str, set[str]] = {group[name]: set() for name in names}
    for edge in builds:
        if group[edge.source] != group[edge.target]:
            below[group[edge.source]].add(group[edge.target])
    floor: dict[str, int] = {}
    for name in sorted(below):
        pending = [name]
        while pending:
            top = pending[-1]
            if top in floor:
                pending.pop()
                continue
            missing = [lower for lower in below[top] if lower not in floor]
            if missing:
                pending.extend(missing)
                continue
            floor[top] = 1 + max((floor[lower] for lower in below[top]), default=0)
            pending.pop()
    return {name: floor[group[name]] for name in names}


def entry_points(root: Path) -> set[str]:
    """The package modules Python loads from outside: each ``__main__`` (``python -m``), and
    the modules named by ``[project.scripts]`` and ``[project.entry-points.*]`` in the
    ``pyproject.toml`` above ``root`` (an entry ``pkg.face:main`` names the module defining
    ``main``, looked through the face like any import)."""
    sources = _module_names(root)
    found = {name for name in sources if name.rsplit(".", 1)[-1] == "__main__"}
    pyproject = next(
        (
            folder / "pyproject.toml"
            for folder in root.resolve().parents
            if (folder / "pyproject.toml").is_file()
        ),
        None,
    )
    if pyproject is None:
        return found
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    values: list[str] = list(project.get("scripts", {}).values())
    for group in project.get("entry-points", {}).values():
        values.extend(group.values())
    shown = _shown_names(sources)
    for value in values:
        module, _, attr = str(value).partition(":")
        if module in sources:
            found.add(shown.get(module, {}).get(attr.split(".")[0], module))
    return found


def build_house(root: Path, *, entries: Iterable[str] | None = None) -> House:
    """Read the package at ``root`` (a directory with ``__init__.py``) and draw its house.

    A face (a package ``__init__``) and an entry point (``entries``, by default
    ``entry_points(root)``) count every import they make for their floor: loaded first, from
    outside, they stand on top of what they show or start, and what they defer (a PEP 562 map,
    a command loaded once the arguments are parsed, a pytest plugin's fixtures) is deferred on
    purpose, to keep loading cheap.
    """
    names, imports = read_imports(root)
    faces = {name for name, source in _module_names(root).items() if source.is_face}
    tops = faces | set(entry_points(root) if entries is None else entries)
    floors = _floors(names, imports, tops)
    upward = [
        edge
        for edge in imports
        if edge.kind in (ImportKind.LAZY, ImportKind.TYPING)
        and floors[edge.target] >= floors[edge.source]
    ]
    return House(floors, _circles(names, imports), upward, imports, frozenset(tops))


def render(house: House, *, width: int = 100) -> str:
    """The house as text: one block per floor, the top first, then circles and upward imports."""
    lines: list[str] = []
    package = min(house.floors, key=len, default="")
    prefix = f"{package}."
    for floor in range(house.height, 0, -1):
        names = [
            name.removeprefix(prefix) if name != package else package
            for name in house.on_floor(floor)
        ]
        label = f"{floor:>2}  "
        wrapped = textwrap.wrap(
            "  ".join(names),
            width=width,
            initial_indent=label,
            subsequent_indent=" " * len(label),
            break_on_hyphens=False,
        )
        lines.extend(wrapped)
    lines.append("")
    lines.append(f"{house.height} floors, {len(house.floors)} modules")
    tallest = [name.removeprefix(prefix) for name in house.tallest()]
    lines.extend(
        textwrap.wrap(
            "tallest stack: " + " → ".join(tallest),
            width=width,
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
    )
    deferred = sum(edge.kind is ImportKind.DEFERRED for edge in house.imports)
    lines.append(f"deferred imports (building floors): {deferred or 'none'}")
    lines.append(f"circles: {len(house.circles) or 'none'}")
    lines.extend(f"  {' ↔ '.join(circle)}" for circle in house.circles)
    pairs: dict[tuple[str, str], list[Import]] = {}
    for edge in house.upward:
        pairs.setdefault((edge.source, edge.target), []).append(edge)
    lines.append(f"imports running up: {len(pairs) or 'none'}")
    for (source, target), edges in sorted(pairs.items()):
        where = ", ".join(f"{edge.kind.value} {edge.line}" for edge in edges)
        lines.append(
            f"  {source.removeprefix(prefix)} ({house.floors[source]}) → "
            f"{target.removeprefix(prefix)} ({house.floors[target]}): line {where}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the house of the package directory given (default ``src/pleo_export``)."""
    parser = argparse.ArgumentParser(prog="python -m scripts.house", description=__doc__)
    parser.add_argument("package", nargs="?", type=Path, default=DEFAULT_PACKAGE)
    args = parser.parse_args(argv)
    package: Path = args.package
    if not (package / "__init__.py").is_file():
        parser.error(f"{package} is not a package directory (no __init__.py)")
    print(render(build_house(package)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
