"""Re-exports of a package resolved on first use (PEP 562), not when the package is imported.

Every process of CNS (API server, Celery worker, CLI run, parser sandbox) imports ``cns`` and the
packages on the way to the module it needs. When a package ``__init__`` imports everything it
re-exports, each process pays for the whole tree, most of which it never uses. A package that
calls :func:`lazy_exports` instead lists its names with the module that defines them; the real
import happens on the first attribute access and the value is then cached in the package.

The package keeps the same imports under ``if TYPE_CHECKING:`` so that type checkers and IDEs see
the names; ``tests/test_lazy_exports.py`` checks the two lists agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_exports(
    package: str, namespace: MutableMapping[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``.

    ``exports`` maps each re-exported name to the module that defines it; ``namespace`` is the
    package's ``globals()``, where a resolved name is stored so that later look-ups are plain
    attribute reads.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
