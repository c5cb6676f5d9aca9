"""The layers of ``cns/`` (docs/architecture.md) hold: no module imports a layer above it, the
service layer knows neither the broker nor the CLI, and there is no runtime import cycle.

Imports are read from the source with :mod:`ast`, so an import inside a function counts as much
as one at the top of a module. Imports under ``if TYPE_CHECKING:`` do not run: they count for
the layers (a type is a dependency too) but not for cycles. The exception is a package that
re-exports its names lazily (it calls ``lazy_exports``, :mod:`cns.lazy_exports`): its
``TYPE_CHECKING`` imports are the ones its module ``__getattr__`` performs on first use, so they
count as runtime imports, as an import inside a function does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The layers, lowest first; a module may import its own layer and the layers below it. The
#: longest matching prefix decides a module's layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "cns.errors",
            "cns.logging_setup",
            "cns.version",
            "cns.lazy_exports",
            "cns.ports",
            "cns.config",
            "cns.core",
        ),
    ),
    # the offline fake backends are adapters that the model factory selects from configuration
    ("adapters", ("cns.store", "cns.index", "cns.models", "cns.testing.fakes", "cns.testing.slow_fakes")),
    (
        "domain",
        (
            "cns.metrics",
            "cns.critics",
            "cns.ingestion",
            "cns.pairs",
            "cns.synthesis",
            "cns.exploration",
            "cns.report",
        ),
    ),
    ("workflow", ("cns.workflow",)),
    ("services", ("cns.services",)),
    ("edges", ("cns.worker", "cns.tasks", "cns.api", "cns.web", "cns.main", "cns.cli", "cns.__main__")),
    ("facade", ("cns",)),  # cns/__init__.py: the public Python API re-exports, imported by nobody inside
    ("test support", ("cns.testing",)),  # servers and stacks for tests; production never imports them
)

#: Edges that must not lean on each other: the worker is started by the CLI and used by the API
#: (publisher, broker check), never the other way round.
EDGE_RULES: dict[str, tuple[str, ...]] = {
    "cns.worker": ("cns.api", "cns.cli", "cns.tasks", "cns.main"),
    "cns.api": ("cns.cli", "cns.tasks", "cns.web"),
    # the pages sit on the API (its app, dependencies and route bodies), never the other way round
    "cns.web": ("cns.cli", "cns.tasks", "cns.worker"),
}

#: Libraries the service layer must not import: the broker (Celery and its transport), the CLI's
#: and the API's frameworks. The service layer reaches the broker through ``cns.ports.Publisher``.
SERVICE_FORBIDDEN_LIBRARIES = frozenset(
    {
        "celery",
        "kombu",
        "billiard",
        "redis",
        "typer",
        "rich",
        "click",
        "httpx",
        "fastapi",
        "starlette",
        "uvicorn",
    }
)

#: Parsing documents belongs to the loaders, one path for a file on disk and an uploaded file.
SERVICE_FORBIDDEN_MODULES = ("cns.ingestion.loaders",)

#: Known exceptions, each with the reason it is still there. An allowance that is no longer
#: needed fails the test, so the list only shrinks.
ALLOWED: dict[tuple[str, str], str] = {
    # upload parsing moves into cns/ingestion/loaders next (one loader path for files on disk and
    # uploads); it is being changed separately, so it stays in the service layer until then
    ("cns.services.uploads", "cns.ingestion.loaders"): "upload parsing moves into the loaders next",
}

#: The SNO codec facade: ``core/sno`` re-exports the JSON codec and ``core/serialization``
#: builds SNOs. The only runtime cycle allowed.
ALLOWED_CYCLES = (frozenset({"cns.core.sno", "cns.core.serialization"}),)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of the tree, or the top-level name of an outside library
    line: int
    runtime: bool  # False under ``if TYPE_CHECKING:``
    local: bool  # True for a module of the tree


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(root: Path, package: str = "cns") -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _exports_lazily(tree: ast.AST) -> bool:
    """True for a package whose ``TYPE_CHECKING`` imports are performed on first attribute use."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.endswith("lazy_exports")
        for node in ast.walk(tree)
    )


def imports_of(root: Path, package: str = "cns") -> Iterator[Import]:
    """Every import of every module under ``root/package``, resolved to a module of the tree."""
    modules = modules_of(root, package)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        typing_only = set() if _exports_lazily(tree) else _type_checking_nodes(tree)
        package_of = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package_of.split(".")[: len(package_of.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # ``from pkg import sub`` imports the submodule; ``from pkg import name`` the package
                targets = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names
                ]
            else:
                continue
            runtime = id(node) not in typing_only
            for target in dict.fromkeys(targets):  # once per statement and target
                if target == package or target.startswith(package + "."):
                    resolved = resolve(target)
                    if resolved and resolved != name:
                        yield Import(name, resolved, node.lineno, runtime, True)
                else:
                    yield Import(name, target.split(".")[0], node.lineno, runtime, False)


def layer_of(module: str) -> tuple[int, str]:
    best: tuple[int, int, str] | None = None
    for rank, (layer, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank, layer)
    if best is None:
        raise LookupError(f"{module} belongs to no layer: add its package to LAYERS in {Path(__file__).name}")
    return best[1], best[2]


def _under(module: str, prefixes: Iterable[str]) -> str | None:
    return next((p for p in prefixes if module == p or module.startswith(p + ".")), None)


def layer_violations(imports: Iterable[Import]) -> list[tuple[tuple[str, str], str]]:
    """(allowance key, message) for each import that breaks a rule."""
    found: list[tuple[tuple[str, str], str]] = []
    for imp in imports:
        where = f"{imp.importer} (line {imp.line})"
        if not imp.local:
            if imp.importer.startswith("cns.services") and imp.target in SERVICE_FORBIDDEN_LIBRARIES:
                found.append(((imp.importer, imp.target), f"{where} imports {imp.target}: the service layer "
                              "knows no broker, CLI or HTTP framework (use cns.ports.Publisher)"))  # fmt: skip
            continue
        rank, layer = layer_of(imp.importer)
        target_rank, target_layer = layer_of(imp.target)
        if target_rank > rank:
            found.append(((imp.importer, imp.target),
                          f"{where} imports {imp.target}: layer {layer!r} must not import the higher layer "
                          f"{target_layer!r}"))  # fmt: skip
        for edge, banned in EDGE_RULES.items():
            hit = _under(imp.target, banned) if _under(imp.importer, (edge,)) else None
            if hit:
                found.append(
                    ((imp.importer, hit), f"{where} imports {imp.target}: {edge} must not import {hit}")
                )
        if imp.importer.startswith("cns.services."):
            hit = _under(imp.target, SERVICE_FORBIDDEN_MODULES)
            if hit:
                found.append(((imp.importer, hit), f"{where} imports {imp.target}: document parsing belongs "
                              "to the loaders, not the service layer"))  # fmt: skip
    return found


def import_cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Strongly connected components (more than one module) of the runtime import graph."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.local and imp.runtime and not imp.importer.startswith(imp.target + "."):
            # an import of one's own parent package adds nothing: Python imports parents first anyway
            graph.setdefault(imp.importer, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm, iterative over the successors' order
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


@pytest.fixture(scope="module")
def cns_imports() -> list[Import]:
    return list(imports_of(ROOT))


def test_every_module_belongs_to_a_layer(cns_imports: list[Import]) -> None:
    for module in modules_of(ROOT):
        layer_of(module)  # raises with the fix to make


def test_no_module_imports_a_layer_above_it(cns_imports: list[Import]) -> None:
    violations = [message for key, message in layer_violations(cns_imports) if key not in ALLOWED]
    assert not violations, "imports against the layers:\n" + "\n".join(violations)


def test_every_allowance_is_still_needed(cns_imports: list[Import]) -> None:
    used = {key for key, _ in layer_violations(cns_imports)}
    stale = [f"{a} -> {b}: {why}" for (a, b), why in ALLOWED.items() if (a, b) not in used]
    assert not stale, "remove these allowances from ALLOWED, the imports are gone:\n" + "\n".join(stale)


def test_the_service_layer_imports_neither_celery_nor_the_cli(cns_imports: list[Import]) -> None:
    services = [i for i in cns_imports if i.importer.startswith("cns.services")]
    assert services, "no import read from cns/services: the parser is broken"
    bad = [
        f"{i.importer} (line {i.line}) imports {i.target}"
        for i in services
        if i.target in {"celery", "kombu", "billiard"}
        or _under(i.target, ("cns.cli", "cns.worker", "cns.tasks"))
    ]
    assert not bad


def test_no_runtime_import_cycle(cns_imports: list[Import]) -> None:
    cycles = [c for c in import_cycles(cns_imports) if frozenset(c) not in ALLOWED_CYCLES]
    assert not cycles, "runtime import cycles (a function-level import counts):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checks_catch_an_upward_import_a_library_and_a_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "cns/__init__.py": "",
            "cns/core/__init__.py": "",
            "cns/core/a.py": "def f():\n    from cns.workflow import w  # upward, inside a function\n",
            "cns/workflow/__init__.py": "",
            "cns/workflow/w.py": "from ..core import a\n",  # relative import closing a cycle
            "cns/services/__init__.py": "",
            "cns/services/s.py": "import celery\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from cns.worker import app\n",
            "cns/worker/__init__.py": "",
            "cns/worker/app.py": "",
        },
    )
    imports = list(imports_of(root))
    messages = "\n".join(m for _, m in layer_violations(imports))
    assert "cns.core.a (line 2) imports cns.workflow.w: layer 'foundation'" in messages
    assert "cns.services.s (line 1) imports celery" in messages
    assert "cns.services.s (line 4) imports cns.worker.app" in messages  # typing-only still counts
    assert import_cycles(imports) == [["cns.core.a", "cns.workflow.w"]]
    assert not any(i.runtime for i in imports if i.target == "cns.worker.app")


def test_the_readme_and_the_architecture_page_name_every_package() -> None:
    packages = sorted(p.parent.name for p in (ROOT / "cns").glob("*/__init__.py"))
    assert len(packages) > 10
    for page in ("README.md", "docs/architecture.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        missing = [name for name in packages if f"cns/{name}/" not in text]
        assert not missing, f"{page} does not mention {missing}"
