"""Hypothesis fuzzing of the document loaders: any bytes give documents or an ``IngestionError``.

Contract of every loader (``cns.ingestion.loaders``): arbitrary bytes either become documents a
store can keep (non-blank text; no NUL, unpaired surrogate or NaN anywhere, see
``cns.core.storable``) or raise :class:`~cns.errors.IngestionError` with a reason; never another
exception, never a hang (the test timeout). ``load_file`` and the API's ``load_upload`` never
raise at all. Round trips: JSONL records, plain text and escaped HTML paragraphs come back as
written, and a JSONL file with hostile lines loses only those lines.

Inputs are format-flavoured (token soups of HTML, Markdown/YAML, JSON Lines, byte mutations of
a valid PDF) as well as raw bytes, so the parsers get past their first check. Inputs that once
broke a loader are kept as ``@example`` regressions with the bug they found.
"""

from __future__ import annotations

import html
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cns.core.storable import json_problem, text_problem
from cns.errors import IngestionError
from cns.ingestion.document import Document
from cns.ingestion.loaders import SUPPORTED_SUFFIXES, LoadResult, load_file
from cns.ingestion.loaders.html import load_html
from cns.ingestion.loaders.jsonl import load_jsonl
from cns.ingestion.loaders.pdf import load_pdf
from cns.ingestion.loaders.text import load_markdown, load_txt
from cns.services.uploads import load_upload, safe_name
from tests.ingestion.ingest_helpers import make_text_pdf
from tests.security.fuzz_support import Outcomes, fuzz_settings

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

Loader = Callable[[bytes, Path, dict[str, Any] | None], Any]

# ---------------------------------------------------------------- inputs
_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "shift_jis"]
_TEXT = st.text(max_size=200)


def _encode(pair: tuple[str, str]) -> bytes:
    text, encoding = pair
    return text.encode(encoding, errors="replace")


def _soup(tokens: list[str]) -> st.SearchStrategy[bytes]:
    """Byte strings made of format tokens and short random text, in some encoding."""
    pieces = st.one_of(st.sampled_from(tokens), st.text(max_size=6))
    text = st.lists(pieces, max_size=60).map("".join)
    return st.tuples(text, st.sampled_from(_ENCODINGS[:3])).map(_encode)


RAW = st.one_of(st.binary(max_size=600), st.tuples(_TEXT, st.sampled_from(_ENCODINGS)).map(_encode))
HTML_TOKENS = [
    "<html>", "<head>", "</head>", "<body>", "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>",
    "<script>", "</script>", "<style>", "<title>", "</title>", "<h1>", "<li>", "<table><tr><td>",
    '<meta name="author" content="', '<meta property="og:title" content="', '<meta name="date" content="',
    '<time datetime="', '<link rel="canonical" href="', '">', "<!--", "-->", "<![CDATA[", "]]>",
    "<!DOCTYPE html>", "<?xml ?>", "&amp;", "&#0;", "&#xD800;", "&#1114112;", "&", "<", ">", '"',
    "\x00", "\n", " ", "By Ada Lovelace\n", "Some text. ", "<nav>", "<svg>", "<template>", "<b>",
]  # fmt: skip
MARKDOWN_TOKENS = [
    "---\n", "...\n", "title: ", "author: ", "authors:\n  - ", "date: ", "url: ", "&a ", "*a", "!!binary ",
    "!!python/object:os.system ", "? ", ": ", "[", "]", "{", "}", "# ", "## ", "> ", "- ", "1. ", "```\n",
    "~~~", "|a|b|\n|-|-|\n", "[x](http://y)", "![i](j)", "<div>", "</div>", "**", "_", "`", "\\", "\n",
    "\t", " ", "word ", "2024-01-01", "&#0;", "\x00", "By Ada Lovelace\n",
]  # fmt: skip
JSON_LINE_TOKENS = [
    '{"text": "A claim about rocks."}', '{"text": ""}', '{"text": 3}', "[1, 2]", '"text"', "{", "}",
    '{"text": "nan", "x": NaN}', '{"text": "big", "x": 1e999}', '{"text": "a\\u0000b"}',
    '{"text": "\\ud800"}', '{"text": "t", "source": "' + "s" * 3000 + '"}', "[" * 5000,
    '{"text": "t", "source": null}', '{"text": "t", "format": "x", "title": ["a", {"b": null}]}',
]  # fmt: skip
JSONL = st.lists(st.one_of(st.sampled_from(JSON_LINE_TOKENS), st.text(max_size=30)), max_size=8).map(
    lambda lines: "\n".join(lines).encode("utf-8")
)
_PDF = make_text_pdf(["Plate tectonics moves continents.", "Fossils match across oceans."], title="T")
_EDIT = st.tuples(st.integers(0, len(_PDF)), st.integers(0, 12), st.binary(max_size=12))


def _mutate(edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(_PDF)
    for position, delete, insert in edits:
        data[position : position + delete] = insert
    return bytes(data)


PDF = st.one_of(
    st.lists(_EDIT, min_size=1, max_size=6).map(_mutate),
    st.integers(0, len(_PDF)).map(lambda n: _PDF[:n]),
    RAW.map(lambda b: b"%PDF-1.4\n" + b),
)

# Regressions. Each was a bug before the fix it names.
#: 379 bytes of nested YAML aliases ("billion laughs") expanded to a 34 MB title (9x per extra level:
#: gigabytes, in the API process); front matter now refuses aliases.
YAML_BOMB = (
    "---\na0: &a0 [" + ",".join(['"lol"'] * 9) + "]\n"
    + "".join(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 6))
    + "title: [" + ",".join(["*a5"] * 9) + "]\n---\n# Heading\n\nBody text.\n"
).encode()  # fmt: skip
#: Nested block elements made html_to_text quadratic (8000 divs: 5 s; 100 000: many minutes).
NESTED_DIVS = b"<div>" * 20_000 + b"deep text"
#: A NUL after the 8 KB binary sniff reached the document text (PostgreSQL cannot store it).
LATE_NUL = b"Plain words. " * 700 + b"\x00 tail"


def _pdf_object(number: int, body: bytes) -> bytes:
    """The valid test PDF with object ``number``'s body replaced (offsets shift; pypdf recovers)."""
    start = _PDF.index(f"\n{number} 0 obj\n".encode()) + len(f"\n{number} 0 obj\n")
    return _PDF[:start] + body + _PDF[_PDF.index(b"\nendobj", start) :]


#: A page object that is a reference to itself: pypdf raised AttributeError, which load_pdf let
#: through (and load_file too: one such file stopped `cns run`; /ingest/files answered 500).
PDF_SELF_REFERENCE = _pdf_object(3, b"3 0 R")
#: A garbled Info dictionary: reading ``reader.metadata`` (outside the try) raised PdfReadError.
PDF_BAD_INFO = _pdf_object(6, b"\x03\x18;\xd8\xf3R\x9c#\xb0Titl")
#: A line nested too deeply to parse (RecursionError) made the whole JSONL file "unreadable".
DEEP_LINE = b'{"text": "kept"}\n' + b"[" * 100_000 + b"\n" + b'{"text": "kept too"}'


# ---------------------------------------------------------------- the contract
def check_documents(documents: list[Document]) -> None:
    """Every loaded document can be stored and serialised as it is."""
    for document in documents:
        assert document.text.strip(), document
        assert text_problem(document.text) is None and text_problem(document.source) is None
        assert json_problem(document.metadata) is None, document.metadata
        json.dumps(document.metadata, allow_nan=False, default=str)


def run_loader(loader: Loader, data: bytes, name: str) -> str:
    """The loader's outcome for ``data``: documents, or an IngestionError with a reason."""
    try:
        loaded = loader(data, Path(name), None)
    except IngestionError as exc:
        assert exc.message.strip()
        return type(exc).__name__
    if isinstance(loaded, LoadResult):
        check_documents(loaded.documents)
        assert all(s.reason.strip() for s in loaded.skipped)
        return "parsed" if loaded.documents else "all lines skipped"
    check_documents(loaded)
    assert loaded, "a loader returned no document without saying why"
    return "parsed"


TARGETS: dict[str, tuple[Loader, str, st.SearchStrategy[bytes], int]] = {
    "txt": (load_txt, "doc.txt", RAW, 300),
    "markdown": (load_markdown, "doc.md", st.one_of(_soup(MARKDOWN_TOKENS), RAW), 300),
    "html": (load_html, "doc.html", st.one_of(_soup(HTML_TOKENS), RAW), 300),
    "jsonl": (load_jsonl, "doc.jsonl", st.one_of(JSONL, RAW), 300),
    "pdf": (load_pdf, "doc.pdf", PDF, 250),
}
REGRESSIONS: dict[str, list[bytes]] = {
    "txt": [LATE_NUL],
    "markdown": [YAML_BOMB, b"---\na: " + b"[" * 50_000 + b"\n---\nbody", NESTED_DIVS],
    "html": [NESTED_DIVS, b"<p>a&#0;b&#xD800;c&#1114112;d</p>"],
    "jsonl": [DEEP_LINE],
    "pdf": [PDF_SELF_REFERENCE, PDF_BAD_INFO],
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_loader_gives_documents_or_an_ingestion_error(target: str) -> None:
    loader, name, inputs, examples = TARGETS[target]
    outcomes = Outcomes()

    def run(data: bytes) -> None:
        started = time.perf_counter()
        outcomes.add(run_loader(loader, data, name))
        # a hang guard, not a speed test: generous because coverage tracing and a loaded machine
        # (two test processes on two cores) slow these pure-Python parsers several times over
        assert time.perf_counter() - started < 120, "a loader took over 120 s on one small input"

    test = given(data=inputs)(run)
    for data in REGRESSIONS[target]:
        test = example(data=data)(test)
    fuzz_settings(examples)(test)()
    outcomes.record(
        f"loader:{target}",
        f"hostile {name.rsplit('.', 1)[1]} bytes into {loader.__name__}",
        "storable documents or IngestionError with a reason; no other exception or hang",
    )


def test_yaml_alias_bomb_is_not_expanded() -> None:
    (document,) = load_markdown(YAML_BOMB, Path("bomb.md"), None)
    assert document.metadata["title"] == "Heading" and len(document.text) < len(YAML_BOMB)


def _seconds_to_load_nested_divs(depth: int) -> float:
    started = time.perf_counter()
    (document,) = load_html(b"<div>" * depth + b"x", Path("deep.html"), None)
    assert document.text == "x"
    return time.perf_counter() - started


def test_nested_block_html_is_linear() -> None:
    """Ten times deeper costs about ten times more, not a hundred (it was many minutes at 100,000).

    Both depths are timed back to back in this process, so a slow or loaded machine slows both.
    """
    _seconds_to_load_nested_divs(1_000)  # warm-up: imports, first parse
    shallow = min(_seconds_to_load_nested_divs(10_000) for _ in range(2))
    deep = _seconds_to_load_nested_divs(100_000)
    assert deep / shallow < 30, (shallow, deep)


KNOWN_SUFFIXES = frozenset(SUPPORTED_SUFFIXES)
UPLOAD_NAMES = st.one_of(
    st.text(max_size=40), st.sampled_from(["a.txt", "a.md", "a.jsonl", "a.pdf", "a.htm", "a", "a.bin"])
)
UPLOAD_DATA = st.one_of(RAW, JSONL, PDF, _soup(HTML_TOKENS), _soup(MARKDOWN_TOKENS))


def test_upload_and_load_file_never_raise() -> None:
    outcomes = Outcomes()
    with tempfile.TemporaryDirectory() as folder:

        @fuzz_settings(300)
        @given(name=UPLOAD_NAMES, data=UPLOAD_DATA)
        @example(name="../../etc/passwd", data=b"root:x:0:0")
        @example(name="bomb.md", data=YAML_BOMB)
        @example(name="lines.jsonl", data=DEEP_LINE)
        @example(name="loop.pdf", data=PDF_SELF_REFERENCE)
        @example(name="info.pdf", data=PDF_BAD_INFO)
        @example(name="nested.html", data=NESTED_DIVS)
        def run(name: str, data: bytes) -> None:
            uploaded = load_upload(name, data)
            check_documents(uploaded.documents)
            assert all(s.reason.strip() for s in uploaded.skipped)
            suffix = Path(safe_name(name)).suffix.lower()
            if suffix != ".jsonl":  # the upload's base name is only ever a label
                assert all(d.source == safe_name(name) for d in uploaded.documents)
            known = suffix in KNOWN_SUFFIXES
            path = Path(folder) / f"f{outcomes.total}{suffix if known else '.bin'}"
            path.write_bytes(data)
            from_disk = load_file(path)
            check_documents(from_disk.documents)
            if known:  # unknown types are sniffed a little differently on disk (HTML by its tag)
                assert len(from_disk.documents) == len(uploaded.documents)
            outcomes.add("documents" if uploaded.documents else "skipped with reason")

        run()
    outcomes.record(
        "loader:upload+file",
        "hostile file name and bytes into load_upload (POST /ingest/files) and load_file (cns run)",
        "never raises: documents or skipped entries with reasons; names never used as paths",
    )


# ---------------------------------------------------------------- round trips
_STORABLE = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff")
_WORDS = st.text(alphabet=_STORABLE, min_size=1, max_size=80).filter(str.strip)
_META_KEYS = st.sampled_from(["title", "author", "date", "url", "lang", "n", "tags"])
_META_TEXT = st.text(alphabet=_STORABLE, max_size=20)
_META_VALUES = st.one_of(_META_TEXT, st.integers(), st.booleans(), st.lists(_META_TEXT, max_size=3))
RECORDS = st.lists(
    st.tuples(_WORDS, st.dictionaries(_META_KEYS, _META_VALUES, max_size=3)), min_size=1, max_size=6
)
#: Lines that must be skipped, each with its reason, without costing the file's other lines.
HOSTILE_LINES = st.sampled_from(
    [
        '{"text": ""}', '{"text": 3}', "[1, 2]", '"text"', "{", "}", "garbage", '{"text": "nan", "x": NaN}',
        '{"text": "big", "x": 1e999}', '{"text": "a\\u0000b"}', '{"text": "\\ud800"}', "[" * 100_000,
    ]
)  # fmt: skip


def test_jsonl_round_trip_loses_only_hostile_lines() -> None:
    outcomes = Outcomes()
    lost = duplicated = 0

    @fuzz_settings(200)
    @given(records=RECORDS, hostile=st.lists(HOSTILE_LINES, max_size=4), ascii_only=st.booleans())
    @example(records=[("kept", {}), ("kept too", {"n": 1})], hostile=["[" * 100_000], ascii_only=True)
    def run(records: list[tuple[str, dict[str, Any]]], hostile: list[str], ascii_only: bool) -> None:
        nonlocal lost, duplicated
        good = [json.dumps({"text": text, **meta}, ensure_ascii=ascii_only) for text, meta in records]
        lines = [line for pair in zip(good, hostile + [""] * len(good), strict=False) for line in pair]
        loaded = load_jsonl("\n".join(lines).encode("utf-8"), Path("r.jsonl"), None)
        texts = [d.text for d in loaded.documents]
        expected = [text for text, _ in records]
        lost += max(0, len(expected) - len(texts))
        duplicated += max(0, len(texts) - len(expected))
        assert texts[: len(expected)] == expected, (texts, expected, loaded.skipped)
        for document, (_, meta) in zip(loaded.documents, records, strict=False):
            kept = {k: v for k, v in meta.items() if v not in (None, "", [], {})}
            assert document.metadata == {**kept, "format": "jsonl"}
        outcomes.add("round trip")

    run()
    outcomes.record(
        "roundtrip:jsonl",
        "JSONL of generated records interleaved with hostile lines (NaN, NUL, deep nesting, bad JSON)",
        "every record back with its text and metadata, in order; only hostile lines skipped",
        lost=lost,
        duplicated=duplicated,
    )


def test_txt_and_html_round_trip() -> None:
    outcomes = Outcomes()

    @fuzz_settings(200)
    @given(paragraphs=st.lists(_WORDS, min_size=1, max_size=5), newline=st.sampled_from(["\n", "\r\n", "\r"]))
    def run(paragraphs: list[str], newline: str) -> None:
        text = "\n\n".join(paragraphs)
        (document,) = load_txt(text.replace("\n", newline).encode("utf-8"), Path("p.txt"), None)
        assert document.text == text
        words = [" ".join(p.split()) for p in paragraphs]
        page = "<html><body>" + "".join(f"<p>{html.escape(w)}</p>" for w in words) + "</body></html>"
        loaded = load_html(page.encode("utf-8"), Path("p.html"), None)
        assert loaded[0].text == "\n\n".join(w.strip() for w in words if w.strip())
        outcomes.add("round trip")

    run()
    outcomes.record(
        "roundtrip:txt+html",
        "generated paragraphs written as .txt (any newline style) and as escaped HTML <p>",
        "the same text back (newlines normalised, HTML whitespace collapsed)",
    )
