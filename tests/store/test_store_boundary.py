"""Every SQL statement lives in ``cns/store``: no other module of the package talks to the database.

A module outside the store that imports SQLAlchemy (or the store's tables, engine or session
helpers) runs statements without the store's error translation, so a database outage surfaces
there as a 500 instead of the 503 every other route answers. Function-level imports count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cns

PACKAGE = Path(cns.__file__).resolve().parent
STORE = PACKAGE / "store"
#: Modules of the SQL store that are its inside: tables, engine, sessions, repositories.
STORE_INSIDE = (
    "sqlalchemy",
    "alembic",
    "cns.store.sql.schema",
    "cns.store.sql.engine",
    "cns.store.sql.migrate",
)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def reaches_inside(module: str) -> bool:
    if any(module == inside or module.startswith(inside + ".") for inside in STORE_INSIDE):
        return True
    parts = module.split(".")
    return parts[:3] == ["cns", "store", "sql"] and len(parts) > 3 and parts[3].startswith("_")


def test_no_module_outside_the_store_imports_sqlalchemy_or_the_store_inside() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if STORE not in path.parents
        for line, module in imported_modules(path)
        if reaches_inside(module)
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_check_sees_function_level_and_private_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from sqlalchemy.orm import Session\n"
        "import cns.store.sql._jobs\nfrom cns.store.sql import records\nfrom cns.store import SQLStore\n"
    )
    flagged = sorted(m for _, m in imported_modules(sample) if reaches_inside(m))
    assert flagged == ["cns.store.sql._jobs", "sqlalchemy.orm", "sqlalchemy.orm.Session"]
