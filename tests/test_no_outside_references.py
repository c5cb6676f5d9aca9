"""Code and documentation stand alone: no reference to a document outside the repository.

A reader of ``cns/``, ``docs/`` or the README cannot open "the guide", a defect number ("G6"),
a numbered section ("§13", "anchors B.5") or a test id that no page defines. Each such reference
must be a plain reason or a link to a page in ``docs/`` (docs/design-notes.md collects the design
decisions). Test ids R01… are defined by the table of docs/reliability.md and may be cited.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("cns", "docs", "README.md")
TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".html", ".j2", ".jinja", ".txt", ".yaml", ".yml", ".toml", ".css", ".js"}
)

#: What a reference to an outside document looks like, and why it is one.
PATTERNS: dict[str, re.Pattern[str]] = {
    "defect number (G1…G19)": re.compile(r"\bG(?:1[0-9]|[1-9])\b"),
    "numbered section (§)": re.compile(r"§"),
    "section of an outside document (B.5, anchors)": re.compile(
        r"\bB\.[0-9]+\b|engineering[- ]anchors|\banchors?\s+(?:B\b|practice|§)|\banchor sections?\b"
    ),
    "the guide": re.compile(r"\bthe guide\b|\bguide's\b", re.IGNORECASE),
    "the blueprint": re.compile(r"\bblueprint\b(?!-cosine)", re.IGNORECASE),
    "the specification": re.compile(r"\bspec(?:ification)?\s*(?:§|G[0-9]|chapter|section)|\bSpec:|\(spec\b"),
    "chapter or equation of another text": re.compile(r"\bchapter [0-9]+\b|\bEq\. ?[0-9]+", re.IGNORECASE),
    "another text's version or marker": re.compile(r"\bv0729\b|\bIdeas Paper\b|\[DECIDE\]|\.\./shared/"),
}
#: A test id like R19 counts only if docs/reliability.md defines it (a row of its tables).
RELIABILITY = ROOT / "docs" / "reliability.md"
R_NUMBER = re.compile(r"\bR[0-9]{1,3}\b")

#: Files allowed to keep a reference (none: every reference is a plain reason or a docs/ page).
ALLOWED_FILES: frozenset[str] = frozenset()


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return [p for p in files if p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts]


def defined_test_ids() -> frozenset[str]:
    text = RELIABILITY.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\|\s*(R[0-9]{1,3})\b", text, flags=re.MULTILINE))


def outside_references(path: Path, text: str, test_ids: frozenset[str]) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for why, pattern in PATTERNS.items():
            for match in pattern.finditer(line):
                found.append(f"{path}:{number}: {match.group(0)!r} ({why}): {line.strip()[:120]}")
        for match in R_NUMBER.finditer(line):
            if match.group(0) not in test_ids:
                found.append(f"{path}:{number}: {match.group(0)!r} (test id not in docs/reliability.md)")
    return found


def test_no_reference_to_an_outside_document() -> None:
    test_ids = defined_test_ids()
    assert {"R01", "R19", "R25"} <= test_ids, "the reliability table was not found"
    found = []
    for path in scanned_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative not in ALLOWED_FILES:
            found += outside_references(Path(relative), path.read_text(encoding="utf-8"), test_ids)
    assert not found, "rewrite as a plain reason or a link to a docs/ page:\n" + "\n".join(found)


def test_every_allowed_file_exists() -> None:
    missing = sorted(name for name in ALLOWED_FILES if not (ROOT / name).is_file())
    assert not missing, f"remove from ALLOWED_FILES: {missing}"


def test_the_patterns_catch_each_kind_of_reference() -> None:
    ids = frozenset({"R19"})
    caught = ["as G6 requires", "spec §13", "(anchors B.5)", "the guide's seed", "the blueprint's 1 − cos",
              "in chapter 5", "test R99"]  # fmt: skip
    for text in caught:
        assert outside_references(Path("x.py"), text, ids), text
    for text in ["YAML anchors and aliases", "the blueprint-cosine baseline", "an OpenAPI spec", "test R19"]:
        assert not outside_references(Path("x.py"), text, ids), text


#: ``docs/page.md#section`` in code, or ``(page.md#section)`` in a docs page.
PAGE_LINK = re.compile(r"(?:docs/|\()([\w.-]+\.md)#([\w-]+)")


def heading_slugs(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces → hyphens."""
    slugs = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slugs.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return slugs


def test_every_link_to_a_section_of_a_docs_page_resolves() -> None:
    broken = []
    checked = 0
    for path in scanned_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for page, slug in PAGE_LINK.findall(line):
                checked += 1
                target = ROOT / "docs" / page
                if not target.is_file() or slug not in heading_slugs(target):
                    broken.append(f"{path.relative_to(ROOT)}:{number}: {page}#{slug}")
    assert checked >= 10, "the link pattern found almost no links: it is broken"
    assert not broken, "links to a missing page or section:\n" + "\n".join(broken)
