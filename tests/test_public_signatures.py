"""No ``Any`` in a public signature (STYLE.md): a walk of every public name of the public
modules, the public methods, properties and attributes of each public class, and every class of
the SDK those signatures name in turn (``pleo.v3`` is a ``V3Resources``, whose ``jobs`` is a
``Jobs``…), with each annotation resolved (``typing.get_type_hints``, the names a module imports
only under ``TYPE_CHECKING`` included) and searched for ``typing.Any`` at any depth.

It fails on an ``Any`` anywhere in a checked signature (``list[Any]``, ``IdLike | Any``, a
``Callable[..., Any]`` return), and on an annotation that cannot be resolved, so an ``Any``
cannot hide behind a name the walk does not know. Overloaded functions are checked by their
overloads (what a caller sees), not by their implementation. Generated models
(``pleo_export.models``) are out of scope: their ``from_dict``/``to_dict`` are the generator's.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PUBLIC_MODULES = (
    "pleo_export",
    "pleo_export.sync",
    "pleo_export.testing",
    "pleo_export.webhooks",
    "pleo_export.coordination",
    "pleo_export.accounting",
    "pleo_export.money",
)
#: Walked only as far as they are named; their members are the generator's or the stdlib's.
NOT_WALKED = ("pleo_export.models", "pleo_export_raw")
#: Members every class has, whose signatures are Python's.
DUNDERS_CHECKED = ("__init__", "__call__", "__enter__", "__aenter__", "__iter__", "__aiter__")


def _namespace(module_name: str) -> dict[str, object]:
    """The module's globals, plus what it imports only under ``if TYPE_CHECKING:``."""
    module = sys.modules[module_name]
    namespace = dict(vars(module))
    source = inspect.getsource(module)
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name | ast.Attribute)
            and ast.unparse(node.test).endswith("TYPE_CHECKING")
        ):
            block = ast.Module(body=node.body, type_ignores=[])
            exec(compile(block, module.__file__ or module_name, "exec"), namespace)
    return namespace


_NAMESPACES: dict[str, dict[str, object]] = {}


def _home(obj: object) -> str:
    """The module that defines ``obj`` (a public class may set ``__module__`` to its package)."""
    if callable(obj) and not isinstance(obj, type):
        obj = inspect.unwrap(obj)  # a decorator's wrapper lives in the decorator's module
    if getattr(obj, "__code__", None) is not None:
        return typing.cast(str, getattr(obj, "__globals__", {}).get("__name__"))
    if isinstance(obj, type):  # where its own functions were compiled
        for member in vars(obj).values():
            member = getattr(member, "__func__", getattr(member, "fget", member))
            if inspect.isfunction(member) and member.__qualname__.startswith(obj.__qualname__):
                return typing.cast(str, inspect.unwrap(member).__globals__["__name__"])
    name = typing.cast(str, getattr(obj, "__module__", ""))
    qualname = getattr(obj, "__qualname__", None)
    candidates = [
        module for module in list(sys.modules.values())
        if getattr(module, "__name__", "").startswith(name)
        and getattr(module, qualname or "", None) is obj
    ]  # fmt: skip
    return max((m.__name__ for m in candidates), key=len, default=name)


def _hints(obj: object, owner: type | None = None) -> dict[str, object]:
    """``obj``'s resolved annotations, in the namespace of the module that defines it; for a
    class, its own annotations only (each base is resolved in its own module)."""
    module_name = _home(owner if owner is not None and isinstance(obj, type) else obj)
    if module_name not in _NAMESPACES:
        _NAMESPACES[module_name] = _namespace(module_name)
    namespace = dict(_NAMESPACES[module_name])
    if owner is not None:
        namespace.setdefault(owner.__name__, owner)
    if isinstance(obj, type):
        obj = type("Own", (), {"__annotations__": dict(vars(obj).get("__annotations__", {}))})
    hints: dict[str, object] = {}
    for name, raw in dict(getattr(obj, "__annotations__", {})).items():
        if isinstance(raw, typing.ForwardRef):  # a TypedDict keeps its strings this way
            raw = raw.__forward_arg__
        if not isinstance(raw, str):
            hints[name] = raw
            continue
        try:  # one at a time, so one alias typing cannot subscript does not hide the rest
            holder = type("One", (), {"__annotations__": {name: raw}})
            hints[name] = typing.get_type_hints(holder, globalns=namespace, include_extras=True)[
                name
            ]
        except TypeError:
            # e.g. ``Handler[ItemT, ExportT]`` where Handler's TypeVars sit in a string that
            # Python 3.11 cannot subscript: search the text instead.
            hints[name] = _Text(raw, namespace)
    return hints


class _Text:
    """An annotation searched as text, each name in it resolved in its module's namespace."""

    def __init__(self, text: str, namespace: dict[str, object]) -> None:
        self.text = text
        self.namespace = namespace

    def __repr__(self) -> str:
        return self.text

    def names(self) -> Iterator[object]:
        for node in ast.walk(ast.parse(self.text, mode="eval")):
            if isinstance(node, ast.Name | ast.Attribute):
                try:
                    yield eval(ast.unparse(node), self.namespace)
                except (NameError, AttributeError) as exc:
                    raise NameError(f"{self.text}: {exc}") from None


def _contains_any(annotation: object, namespace: dict[str, object] | None = None) -> bool:
    """Whether ``typing.Any`` occurs anywhere in ``annotation`` (``namespace`` resolves the
    forward references an alias may hold)."""
    if annotation is typing.Any:
        return True
    if isinstance(annotation, _Text):
        return any(_contains_any(value, annotation.namespace) for value in annotation.names())
    if isinstance(annotation, typing.ForwardRef | str):
        text = getattr(annotation, "__forward_arg__", annotation)
        return _contains_any(_Text(text, namespace or {}))
    if isinstance(annotation, list | tuple):  # Callable's parameter list
        return any(_contains_any(arg, namespace) for arg in annotation)
    if isinstance(annotation, typing.TypeVar):
        return False  # a TypeVar's bound is the generic's business, not the caller's
    if typing.get_origin(annotation) is typing.Literal:
        return False  # its arguments are values, not types
    if typing.is_typeddict(annotation):  # ``**options: Unpack[SomeOptions]``: its fields
        return any(_contains_any(field) for field in _hints(annotation, annotation).values())
    return any(_contains_any(arg, namespace) for arg in typing.get_args(annotation))


def _classes_in(annotation: object) -> Iterator[type]:
    """The SDK's classes named in ``annotation``, at any depth."""
    if isinstance(annotation, type) and annotation.__module__.startswith("pleo_export"):
        yield annotation
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and origin.__module__.startswith("pleo_export"):
        yield origin
    args = annotation if isinstance(annotation, list | tuple) else typing.get_args(annotation)
    for arg in args:
        yield from _classes_in(arg)


def _signatures(func: Callable[..., object]) -> list[Callable[..., object]]:
    """What a caller sees of ``func``: its overloads if it has any, else itself."""
    return list(typing.get_overloads(func)) or [func]


class _Walk:
    """Every checked annotation, as (where, parameter name or 'return' or 'attribute', the
    resolved annotation). Classes are walked when exported, and when a checked return or
    attribute names them (what a caller receives); a parameter's class is only checked for
    ``Any`` where it is named, not walked (the caller builds it, from a public name)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str, object]] = []
        self.unresolved: list[str] = []
        self.seen: set[type] = set()
        self.queue: list[type] = []

    def _add(self, where: str, name: str, annotation: object) -> None:
        self.found.append((where, name, annotation))
        if name in ("return", "attribute"):
            self.queue.extend(c for c in _classes_in(annotation) if c not in self.seen)

    def function(self, where: str, func: object, owner: type | None) -> None:
        if isinstance(func, staticmethod | classmethod):
            func = func.__func__
        if not callable(func):
            return
        for each in _signatures(typing.cast(Callable[..., object], func)):
            try:
                hints = _hints(each, owner)
            except Exception as exc:  # reported, whatever it is
                self.unresolved.append(f"{where}: {type(exc).__name__}: {exc}")
                continue
            for name, annotation in hints.items():
                self._add(where, name, annotation)

    def cls(self, cls: type) -> None:
        if cls in self.seen or cls.__module__.startswith(NOT_WALKED):
            return
        self.seen.add(cls)
        where = f"{cls.__module__}.{cls.__qualname__}"
        own = [base for base in cls.__mro__ if base.__module__.startswith("pleo_export")]
        annotated: set[str] = set()
        for base in own:  # attributes: the most derived annotation of each name
            try:
                hints = _hints(base, base)
            except Exception as exc:
                self.unresolved.append(f"{where} attributes: {type(exc).__name__}: {exc}")
                continue
            for name, annotation in hints.items():
                if not name.startswith("_") and name not in annotated:
                    annotated.add(name)
                    self._add(f"{where}.{name}", "attribute", annotation)
        for name in sorted({name for base in own for name in vars(base)}):
            if name.startswith("_") and name not in DUNDERS_CHECKED:
                continue
            defined_in = next(base for base in cls.__mro__ if name in vars(base))
            if not defined_in.__module__.startswith("pleo_export"):
                continue  # e.g. Exception.__init__ reached through an SDK error's MRO
            member = vars(defined_in)[name]
            if isinstance(member, property):
                member = member.fget
            elif isinstance(member, types.MemberDescriptorType):  # a __slots__ entry
                continue
            if inspect.isclass(member):
                self.queue.append(member)
                continue
            self.function(f"{where}.{name}", member, defined_in)

    def run(self) -> None:
        for module_name in PUBLIC_MODULES:
            module = importlib.import_module(module_name)
            for name in module.__all__:
                value = getattr(module, name)
                if inspect.isclass(value):
                    self.queue.append(value)
                elif inspect.isfunction(value):
                    self.function(f"{module_name}.{name}", value, None)
        while self.queue:
            self.cls(self.queue.pop())


@pytest.fixture(scope="module")
def walk() -> _Walk:
    done = _Walk()
    done.run()
    return done


def test_the_walk_reaches_the_whole_surface(walk: _Walk) -> None:
    """The walk is not vacuous: it reaches the client, both versions' resources, the worker,
    the sync client, the fake and the coordinators, and checks thousands of annotations."""
    reached = {cls.__name__ for cls in walk.seen}
    for name in ("PleoExport", "V3Resources", "ExportWorker", "ExportRun", "BatchResult"):
        assert name in reached, name
    for name in ("FakePleo", "SQLiteCoordinator", "WebhookEvent", "Money"):
        assert name in reached, name
    assert len(walk.found) > 1000, len(walk.found)


def test_every_public_annotation_resolves(walk: _Walk) -> None:
    """Every annotation of a checked signature resolves (an unresolvable one could hide an
    ``Any``)."""
    assert walk.unresolved == []


def test_no_any_in_a_public_signature(walk: _Walk) -> None:
    """No parameter, return or attribute of the public surface is, or contains, ``Any``."""
    offenders = sorted(
        {f"{where} {name}: {annotation}" for where, name, annotation in walk.found
         if _contains_any(annotation)}
    )  # fmt: skip
    assert offenders == [], "\n".join(offenders)


def test_the_check_sees_any_where_it_hides() -> None:
    """The search finds ``Any`` bare, in a union, a container, a callable's parameters and
    return and an ``Annotated``; and not in ``object`` or a plain TypeVar."""
    T = typing.TypeVar("T")
    hiding = [
        typing.Any,
        int | typing.Any,
        list[typing.Any],
        dict[str, list[typing.Any]],
        Callable[[typing.Any], None],
        Callable[..., typing.Any],
        typing.Annotated[typing.Any, "x"],
        typing.Optional[typing.Any],  # noqa: UP045 - the old spelling, on purpose
    ]
    assert all(_contains_any(h) for h in hiding)
    assert not any(_contains_any(h) for h in (object, T, list[T], Callable[[int], str], Path))


def test_post_event_shows_no_plumbing(walk: _Walk) -> None:
    """``post_event`` takes the event and its details only: the per-attempt callback that the
    transition helpers use to reconcile (``on_attempt``) is no parameter of any public
    ``post_event`` (it was on ``pleo.jobs.post_event``, ``pleo.v3.post_event`` and the port)."""
    posting = [
        (cls.__qualname__, inspect.signature(cls.post_event).parameters)
        for cls in walk.seen
        if callable(getattr(cls, "post_event", None))
    ]
    assert len(posting) >= 3, posting  # ExportJobsV3, ExportJobsV2, the sync jobs resource
    assert [name for name, parameters in posting if "on_attempt" in parameters] == []
