"""What each entry point imports before it does anything: only what every run of it needs.

The suite and a deployment start many processes (API servers, Celery workers, CLI runs, parser
processes), and each pays for its imports in CPU. These checks name the libraries that only one
rarely taken path needs, so an import moved back to the top of a module shows up here. One
subprocess imports the entry points one after another: a library absent after all of them was
absent after each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: parsing libraries, the migration tool, sparse algebra, the PostgreSQL driver and model stacks
RARELY_NEEDED = (
    "alembic",
    "bs4",
    "markdown_it",
    "pypdf",
    "psycopg",
    "scipy",
    "sentence_transformers",
    "sklearn",
    "torch",
    "transformers",
)

_PROBE = """
import json, sys
seen = {}
import cns
seen["cns"] = sorted(m for m in sys.modules if m == "cns" or m.startswith("cns."))
import cns.ingestion.loaders.sandbox
seen["sandbox"] = sorted(m for m in ("numpy", "networkx", "sqlalchemy", "pydantic") if m in sys.modules)
import cns.api, cns.tasks, cns.cli.main
seen["edges"] = sorted(m for m in %r if m in sys.modules)
print(json.dumps(seen))
"""


def test_the_entry_points_import_only_what_every_run_needs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE % (RARELY_NEEDED,)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # the package itself resolves its public names on first use
    assert seen["cns"] == ["cns", "cns.lazy_exports", "cns.version"]
    # a parser process needs neither the data model's libraries nor the store's
    assert seen["sandbox"] == []
    assert seen["edges"] == []
