"""Reference lists, citation markers and their canonical keys."""

from __future__ import annotations

from cns.core.evidence import canonical_key
from cns.ingestion.citations import CitationResolver
from cns.ingestion.references import find_reference_section, parse_references

NUMBERED = """Body text cites things [1] and [2-3].

References
[1] Wegener, A. (1912). Die Entstehung der Kontinente. doi:10.1007/BF01802337
[2] Hess, H. H. (1962). History of ocean basins.
    Petrologic studies, 599-620. https://example.org/hess
[3] Tharp, M. (1957). A rift valley map.
"""

AUTHOR_YEAR = """Some body text here that is long enough to be a body (Vine and Matthews, 1963).

Bibliography

Vine, F. J., & Matthews, D. H. (1963). Magnetic anomalies over oceanic ridges. Nature. https://doi.org/10.1038/199947a0
Wilson, J. T. (1965). A new class of faults. Nature.
"""


def _keys(resolver: CitationResolver, text: str) -> list[str]:
    return [canonical_key(c.source_id, c.marker) for c in resolver.find(text)]


def test_numbered_reference_list_is_parsed_with_wrapped_lines() -> None:
    start = find_reference_section(NUMBERED)
    assert start is not None and NUMBERED[start:].startswith("References")
    refs = parse_references(NUMBERED, start)
    assert [r.number for r in refs] == [1, 2, 3]
    assert canonical_key(refs[0].source_id, refs[0].text) == "doi:10.1007/bf01802337"
    assert "Petrologic studies" in refs[1].text and refs[1].source_id == "https://example.org/hess"
    assert refs[2].source_id.startswith("ref:") and not refs[2].has_identifier
    for ref in refs:
        assert NUMBERED[ref.start : ref.end] == ref.text


def test_numbered_citations_resolve_ranges_and_lists() -> None:
    refs = parse_references(NUMBERED, find_reference_section(NUMBERED) or 0)
    resolver = CitationResolver(refs, "d" * 64)
    keys = _keys(resolver, "As shown before [1, 2-3] and again [4].")
    assert keys[:2] == ["doi:10.1007/bf01802337", "url:example.org/hess"]
    assert keys[2].startswith("src:ref:")
    assert keys[3] == "src:doc:dddddddddddddddd#ref-4"  # unresolved: local to this document


def test_author_year_resolves_against_bibliography() -> None:
    start = find_reference_section(AUTHOR_YEAR)
    assert start is not None
    refs = parse_references(AUTHOR_YEAR, start)
    assert len(refs) == 2 and refs[1].year == "1965" and "wilson" in refs[1].surnames
    resolver = CitationResolver(refs, "d" * 64)
    assert _keys(resolver, "Stripes are symmetric (Vine and Matthews, 1963).") == ["doi:10.1038/199947a0"]
    assert _keys(resolver, "Wilson (1965) described transform faults.")[0].startswith("src:ref:")


def test_unresolved_author_year_gets_a_cross_document_key() -> None:
    a = CitationResolver([], "a" * 64)
    b = CitationResolver([], "b" * 64)
    text = "The idea is old (Wegener, 1912; Holmes 1931)."
    assert _keys(a, text) == _keys(b, text) == ["src:cite:wegener:1912", "src:cite:holmes:1931"]
    assert _keys(a, "Wegener (1912) proposed it.") == ["src:cite:wegener:1912"]


def test_doi_spellings_share_one_key() -> None:
    resolver = CitationResolver([], "a" * 64)
    for text in (
        "See doi:10.1000/XYZ.1.",
        "See https://doi.org/10.1000/xyz.1 for details.",
        "See (http://dx.doi.org/10.1000/XyZ.1).",
    ):
        assert _keys(resolver, text) == ["doi:10.1000/xyz.1"], text


def test_urls_and_arxiv_ids() -> None:
    resolver = CitationResolver([], "a" * 64)
    keys = _keys(resolver, "Data at https://www.example.org/data/ and arXiv:2101.00001v2, see www.x.org.")
    assert keys == ["arxiv:2101.00001", "url:example.org/data", "url:x.org"]


def test_no_citations_in_plain_prose() -> None:
    resolver = CitationResolver([], "a" * 64)
    assert resolver.find("In 1912 the continents were thought fixed, (mostly) by everyone.") == []
