"""The house stays legible: each domain names its use cases, and no import runs up the layers.

DESIGN.md §11 draws the layers. A use case is a public coroutine function whose first
parameter is ``deps``; each domain package lists exactly its use cases (and the few functions
other domains call inside their own transaction, like ``book``) in ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import msgspec
import pytest

import respite

SRC = Path(respite.__file__).parent
DOMAINS = (
    "auth",
    "inventory",
    "places",
    "recipients",
    "eligibility",
    "availability",
    "booking",
    "holds",
    "referral",
    "waitlist",
    "desk",
    "notifications",
    "codes",
)
# Bottom to top; a module may import its own layer and the ones below it, never above.
LAYERS: dict[str, int] = {
    "auth": 1,
    "eligibility": 2,
    "recipients": 3,
    "inventory": 3,
    "places": 3,
    "availability": 4,
    "booking": 5,
    # Beside booking: its listener hears booking's events, and the waiting list (above
    # booking) calls notify.
    "notifications": 5,
    "holds": 6,
    "referral": 7,
    "waitlist": 7,
    # One-time codes: auth's accounts, sent through notifications' outbox.
    "codes": 6,
    "desk": 8,
    "dev": 8,
}
# Top-level modules that wire or serve everything, or report on all of it (the operators'
# figures), and the pages (they call the use cases of every domain): they may import any layer.
TOP = {"app", "cli", "problems", "problem_docs", "health", "figures", "pages", "__main__"}
# Modules at the bottom although they live in a domain's folder: who is calling (every layer
# checks it), the Redis hold store and what a process keeps of it (search and the board read
# live holds), and each domain's errors (problems.py imports them all).
BOTTOM = {"respite.auth.model", "respite.holds.store", "respite.holds.tracking"}
TOP_LAYER = 9


def _modules_of(package: str) -> list[str]:
    path = SRC / package
    return [f"respite.{package}.{m.name}" for m in pkgutil.iter_modules([str(path)]) if not m.ispkg]


def _use_cases(package: str) -> set[str]:
    found: set[str] = set()
    for name in _modules_of(package):
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.iscoroutinefunction(value):
                continue
            if value.__module__ != name:
                continue  # imported from elsewhere
            parameters = list(inspect.signature(value).parameters)
            if parameters[:1] == ["deps"]:
                found.add(attr)
    return found


@pytest.mark.parametrize("package", DOMAINS)
def test_every_use_case_is_named_in_all(package: str) -> None:
    exported = set(importlib.import_module(f"respite.{package}").__all__)
    missing = sorted(_use_cases(package) - exported)
    assert missing == [], f"respite.{package}.__all__ lacks its use cases {missing}"


@pytest.mark.parametrize("package", DOMAINS)
def test_every_name_in_all_is_a_function_of_the_package(package: str) -> None:
    module = importlib.import_module(f"respite.{package}")
    for name in module.__all__:
        value = getattr(module, name)
        # Or the Struct another domain builds to call one (notifications' OfferMade).
        called_with = inspect.isclass(value) and issubclass(value, msgspec.Struct)
        assert inspect.isfunction(value) or called_with, (
            f"respite.{package}.{name} is not a function"
        )
        assert value.__module__.startswith(f"respite.{package}."), (package, name)


def _layer(module: str) -> int:
    if module in BOTTOM or module.endswith(".errors"):
        return 0
    parts = module.split(".")
    if len(parts) < 2:
        return 0
    if parts[1] in TOP:
        return TOP_LAYER
    return LAYERS.get(parts[1], 0)


def _runtime_imports(path: Path) -> set[str]:
    """Modules of respite imported when ``path`` runs (``if TYPE_CHECKING:`` blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("respite"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("respite"))
    return found


def test_no_import_runs_up_the_layers() -> None:
    upward = []
    for path in sorted(SRC.rglob("*.py")):
        module = "respite." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for imported in _runtime_imports(path):
            if _layer(imported) > _layer(module):
                upward.append(f"{module} -> {imported}")
    assert upward == []
