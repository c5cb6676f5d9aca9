"""Render the reliability table of ``docs/reliability.md`` from the rows the tests wrote.

Usage (after ``.venv/bin/python -m pytest -m reliability tests/reliability tests/security``)::

    .venv/bin/python scripts/reliability_table.py                # rewrite docs/reliability.md
    .venv/bin/python scripts/reliability_table.py --check        # exit 1 if any row lost/duplicated work
    .venv/bin/python scripts/reliability_table.py --print        # print the table only

Each test upserts its own row (``tests/reliability/reliability_support.record``) into
``build/reliability/results.json``, with ``lost`` and ``duplicated`` computed from the database.
The table replaces whatever sits between the two marker comments of the document, so the prose
around it is kept; it is generated, never edited by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "build" / "reliability" / "results.json"
DOC = REPO / "docs" / "reliability.md"
START = "<!-- reliability-table:start -->"
END = "<!-- reliability-table:end -->"


def _sort_key(row_id: str) -> tuple[str, int, str]:
    """R02 before R10 before S01: letter, number, then the parameter in brackets."""
    match = re.match(r"([A-Z]+)(\d+)(.*)", row_id)
    if match is None:
        return (row_id, 0, "")
    return (match.group(1), int(match.group(2)), match.group(3))


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def load_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise SystemExit(f"no results at {path}: run the reliability tests first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SystemExit(f"{path} is not valid JSON ({exc}); re-run the reliability tests") from None
    if not isinstance(data, dict):
        raise SystemExit(f"{path} should hold an object keyed by test id")
    return [data[k] for k in sorted(data, key=_sort_key)]


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| test | fault or input | what the system did | lost | duplicated |",
        "|---|---|---|---:|---:|",
    ]
    for row in rows:
        cells = [row["id"], row["fault"], row["behaviour"], row["lost"], row["duplicated"]]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lost = sum(int(r["lost"]) for r in rows)
    duplicated = sum(int(r["duplicated"]) for r in rows)
    newest = max((str(r.get("recorded_at", "")) for r in rows), default="")
    lines.append("")
    lines.append(f"{len(rows)} rows; total lost {lost}, total duplicated {duplicated}; latest run {newest}.")
    return "\n".join(lines)


def write_doc(doc: Path, table: str) -> None:
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{doc} lacks the markers {START} … {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--print", dest="only_print", action="store_true", help="print, do not write")
    parser.add_argument("--check", action="store_true", help="exit 1 if anything was lost or duplicated")
    args = parser.parse_args(argv)
    rows = load_rows(args.results)
    table = render(rows)
    if args.only_print:
        print(table)
    else:
        write_doc(args.doc, table)
        print(f"wrote {len(rows)} rows to {args.doc}")
    bad = [r["id"] for r in rows if int(r["lost"]) or int(r["duplicated"])]
    if args.check and bad:
        print(f"work lost or duplicated in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
