"""Import-light domain packages: each names its use cases and loads them on first use.

``respite.problems`` imports every domain's ``errors`` module, and importing a module first
runs its package's ``__init__``: an ``__init__`` that imported the services would pull the
whole database layer into anything that merely raises a domain error. So a package lists its
use cases in ``__all__`` and hands Python a module ``__getattr__`` made here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

__all__ = ["on_first_use"]


def on_first_use(package: str, homes: Mapping[str, Sequence[str]]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: each name is imported from its home module
    (``homes``: module name -> the names it defines) the first time it is asked for."""
    home_of = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> object:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
