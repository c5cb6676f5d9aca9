"""Loaders: every format, metadata found in documents, and clear skip reasons for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cns.errors import IngestionError
from cns.ingestion.document import document_id_for, make_document
from cns.ingestion.loaders import load_file, load_path
from tests.ingestion.ingest_helpers import make_text_pdf

HTML = """<!doctype html><html><head><title>Drift | Site</title>
<meta name="author" content="Ada Lovelace"><meta property="article:published_time" content="2024-03-01">
<style>.x{color:red}</style><script>var secret = "do not index";</script></head>
<body><nav>Home | About</nav><header>Site banner</header>
<article><h1>Continents move</h1><p>We argue that <a href="/x">continents</a> move <em>slowly</em>.</p>
<p>Fossils match across oceans.</p></article><footer>Copyright 2024</footer></body></html>"""

MARKDOWN = """---
title: Sea Floor Spreading
author: [Harry Hess, Robert Dietz]
date: 1962-01-01
---
# Ignored heading title

We **argue** that the [ocean floor](https://example.org) is young.

- New crust forms at ridges.

```
code = "not prose"
```
"""


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_document_id_is_sha256_of_normalised_text() -> None:
    a = make_document("Plates  move.\n\nSlowly.", "a")
    b = make_document("Plates move. Slowly.", "b")
    assert a.document_id == b.document_id == document_id_for("Plates move. Slowly.")
    assert len(a.document_id) == 64 and a.char_count == len("Plates  move.\n\nSlowly.")
    assert make_document("x", "a", {"title": "", "author": None}).metadata == {}


def test_txt_with_byline_and_date(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "a.txt", "The Drift Debate\nBy Marie Tharp\nMarch 3, 1957\n\nThe rift valley is real.\n"
    )
    doc = load_file(path).documents[0]
    assert doc.metadata["title"] == "The Drift Debate"
    assert doc.metadata["author"] == "Marie Tharp"
    assert doc.metadata["date"] == "March 3, 1957"
    assert doc.source == str(path)


def test_markdown_front_matter_and_markup_stripped(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "a.md", MARKDOWN)).documents[0]
    assert doc.metadata["title"] == "Sea Floor Spreading"
    assert doc.metadata["author"] == "Harry Hess, Robert Dietz"
    assert doc.metadata["date"] == "1962-01-01"
    # the link's syntax goes, its address stays in brackets after the label: it is a reference
    assert "We argue that the ocean floor (https://example.org) is young." in doc.text
    assert "**" not in doc.text and "](" not in doc.text and "---" not in doc.text
    assert "New crust forms at ridges." in doc.text


def test_markdown_title_from_first_heading(tmp_path: Path) -> None:
    doc = load_file(
        _write(tmp_path, "b.markdown", "Intro line\n\n## The Real Title\n\nText here.")
    ).documents[0]
    assert doc.metadata["title"] == "The Real Title"


def test_html_readable_text_and_meta(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "p.html", HTML)).documents[0]
    assert doc.metadata["title"] == "Drift | Site"
    assert doc.metadata["author"] == "Ada Lovelace"
    assert doc.metadata["date"] == "2024-03-01"
    assert "We argue that continents move slowly." in doc.text
    for dropped in ("secret", "color:red", "Home | About", "Site banner", "Copyright"):
        assert dropped not in doc.text
    assert doc.text.startswith("Continents move\n\n")


def test_pdf_text_and_info(tmp_path: Path) -> None:
    pdf = make_text_pdf(
        ["We argue that the ocean floor is young.", "It is recycled at trenches."],
        title="Sea Floor",
        author="H. Hess",
    )
    doc = load_file(_write(tmp_path, "s.pdf", pdf)).documents[0]
    assert "We argue that the ocean floor is young." in doc.text
    assert doc.metadata["title"] == "Sea Floor" and doc.metadata["author"] == "H. Hess"
    assert doc.metadata["date"] == "2024-01-15" and doc.metadata["pages"] == 1


def test_corrupt_pdf_is_skipped_with_reason(tmp_path: Path) -> None:
    result = load_file(_write(tmp_path, "bad.pdf", b"%PDF-1.4\nthis is not really a pdf\n"))
    assert result.documents == []
    assert "PDF" in result.skipped[0].reason


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "First document text.", "title": "One", "author": "A", "url": "https://x.org/1"}),
        "{not json",
        json.dumps({"title": "no text"}),
        "",
        json.dumps({"text": "Second document.", "source": "corpus:2", "date": "2020-01-01"}),
    ]
    result = load_file(_write(tmp_path, "c.jsonl", "\n".join(lines)))
    assert [d.text for d in result.documents] == ["First document text.", "Second document."]
    assert result.documents[0].metadata["title"] == "One"
    assert result.documents[0].source.endswith("c.jsonl:1")
    assert result.documents[1].source == "corpus:2"
    reasons = sorted(s.reason for s in result.skipped)
    assert reasons[0].startswith("invalid JSON on line 2")
    assert reasons[1] == "line 3 has no non-empty 'text' field"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "empty file (no content)"),
        ("blank.md", b"  \n\n ", "empty file (whitespace only)"),
        ("blob.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
        ("nul.txt", b"text\x00with nul", "binary content"),
        ("only-markup.html", b"<html><script>x()</script></html>", "no readable text"),
    ],
)
def test_bad_files_are_skipped_with_reason(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    result = load_file(_write(tmp_path, name, data))
    assert result.documents == []
    assert len(result.skipped) == 1 and expected in result.skipped[0].reason


def test_too_large_file_is_skipped(tmp_path: Path) -> None:
    result = load_file(_write(tmp_path, "big.txt", "word " * 100), max_bytes=100)
    assert result.documents == []
    assert result.skipped[0].reason.startswith("file too large: 0.0 MB > limit 0.0 MB")


def test_non_utf8_encoding_is_detected(tmp_path: Path) -> None:
    text = "Le café de la rue est très réputé pour son crème brûlée et ses élèves déjà âgés. " * 5
    doc = load_file(_write(tmp_path, "fr.txt", text.encode("cp1252"))).documents[0]
    assert "café" in doc.text and "brûlée" in doc.text


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    assert (
        load_file(_write(tmp_path, "notes.rst", "Plain words here.")).documents[0].text == "Plain words here."
    )
    html = load_file(_write(tmp_path, "page.php", "<html><body><p>Hi there.</p></body></html>"))
    assert html.documents[0].text == "Hi there."


def test_folder_is_walked_recursively_and_hidden_files_ignored(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt", "Alpha text.")
    _write(tmp_path, "sub/deeper/b.md", "# B\n\nBeta text.")
    _write(tmp_path, ".git/config", "ignored")
    _write(tmp_path, "sub/.hidden.txt", "ignored")
    _write(tmp_path, "sub/empty.txt", "")
    result = load_path(tmp_path)
    assert sorted(Path(d.source).name for d in result.documents) == ["a.txt", "b.md"]
    assert [Path(s.path).name for s in result.skipped] == ["empty.txt"]


def test_missing_path_raises_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IngestionError, match="path does not exist"):
        load_path(tmp_path / "nope")


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    # a directory named like a text file cannot be read as one (works even when running as root)
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    result = load_file(folder)
    assert result.documents == []
    assert result.skipped[0].reason == "not a regular file (directory); never read"
    missing = load_file(tmp_path / "gone.txt")
    assert missing.skipped[0].reason.startswith("unreadable: No such file")


def test_html_line_break_does_not_split_a_sentence(tmp_path: Path) -> None:
    from cns.ingestion.segment import split_sentences

    doc = load_file(
        _write(tmp_path, "br.html", "<p>Plates move because<br>the mantle convects.</p>")
    ).documents[0]
    assert [s.text for s in split_sentences(doc.text)] == ["Plates move because\nthe mantle convects."]


def test_cnsignore_excludes_files_and_reports_them(tmp_path: Path) -> None:
    from cns.ingestion.loaders import load_path

    (tmp_path / "sub").mkdir()
    (tmp_path / "README.md").write_text("# About this corpus\n\nNot a document.\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Continents drift because the sea floor spreads.\n", encoding="utf-8")
    (tmp_path / "sub" / "notes.txt").write_text(
        "Private notes that should not be ingested.\n", encoding="utf-8"
    )
    (tmp_path / ".cnsignore").write_text("# corpus meta files\nREADME.md\nsub/notes.*\n", encoding="utf-8")
    result = load_path(tmp_path)
    assert [d.source for d in result.documents] == [str(tmp_path / "a.txt")]
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"README.md", "notes.txt"}
    assert all(r.startswith("excluded by") and r.endswith(".cnsignore") for r in reasons.values())
