"""Packages that re-export lazily (:mod:`cns.lazy_exports`) still offer every name they list.

Each such package names its exports twice: imports under ``if TYPE_CHECKING:`` for type checkers
and IDEs, and the ``_EXPORTS`` table its module ``__getattr__`` uses. The two must agree, and every
name must resolve to the object of the module that defines it.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import cns.lazy_exports

ROOT = Path(__file__).resolve().parents[1]


def _lazy_packages() -> list[tuple[str, Path]]:
    found = []
    for init in sorted((ROOT / "cns").rglob("__init__.py")):
        if "lazy_exports(" in init.read_text(encoding="utf-8"):
            name = ".".join(init.relative_to(ROOT).parent.parts)
            found.append((name, init))
    return found


def _typing_imports(init: Path) -> dict[str, str]:
    """Name -> defining module of the imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}:
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.unparse(stmt)
                table.update({alias.asname or alias.name: stmt.module for alias in stmt.names})
    return table


PACKAGES = _lazy_packages()


def test_the_main_packages_export_lazily() -> None:
    names = {name for name, _ in PACKAGES}
    assert {"cns", "cns.ingestion", "cns.workflow", "cns.critics", "cns.synthesis"} <= names


@pytest.mark.parametrize(("package", "init"), PACKAGES, ids=[name for name, _ in PACKAGES])
def test_the_table_matches_the_typing_imports_and_resolves(package: str, init: Path) -> None:
    module = importlib.import_module(package)
    exports: dict[str, str] = vars(module)["_EXPORTS"]
    assert exports == _typing_imports(init)
    assert set(exports) <= set(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        if name in exports:
            assert value is getattr(importlib.import_module(exports[name]), name)
        assert name in dir(module)


def test_an_unknown_name_is_an_attribute_error() -> None:
    getattr_, dir_ = cns.lazy_exports.lazy_exports("pkg", {}, {"known": "cns.version"})
    with pytest.raises(AttributeError, match="'pkg' has no attribute 'missing'"):
        getattr_("missing")
    assert dir_() == ["known"]


def test_a_resolved_name_is_cached_in_the_package() -> None:
    namespace: dict[str, object] = {}
    getattr_, _ = cns.lazy_exports.lazy_exports("pkg", namespace, {"__version__": "cns.version"})
    assert getattr_("__version__") == namespace["__version__"]
