from __future__ import annotations

import pytest

from cns.core.evidence import EvidenceItem, canonical_key, normalize_doi, normalize_url
from cns.errors import ValidationError


@pytest.mark.parametrize(
    "spelling",
    [
        "doi:10.1000/XYZ.1",
        "https://doi.org/10.1000/xyz.1",
        "http://dx.doi.org/10.1000/Xyz.1.",
        "DOI: 10.1000/xyz.1;",
        "10.1000/xyz.1",
    ],
)
def test_doi_spellings_share_one_key(spelling: str) -> None:
    assert canonical_key(spelling, "whatever") == "doi:10.1000/xyz.1"


def test_three_doi_spellings_make_one_set_member() -> None:
    items = {
        EvidenceItem("Wegener 1912", source_id="doi:10.1000/XYZ.1"),
        EvidenceItem("the drift paper", source_id="https://doi.org/10.1000/xyz.1"),
        EvidenceItem("cited again", source_id="http://dx.doi.org/10.1000/xyz.1)"),
    }
    assert len(items) == 1
    assert next(iter(items)).key == "doi:10.1000/xyz.1"


def test_url_normalisation_ignores_scheme_www_fragment_and_trailing_slash() -> None:
    a = normalize_url("https://www.Example.org/papers/A1/?v=2#section")
    b = normalize_url("http://example.org/papers/A1?v=2")
    assert a == b == "url:example.org/papers/A1?v=2"
    assert normalize_url("https://example.org/papers/a1") != a  # paths are case-sensitive


def test_doi_keeps_brackets_that_belong_to_it() -> None:
    assert normalize_doi("10.1002/(SICI)1097-4636(199607)32:3<309::AID-JBM3>3.0.CO;2-M") == (
        "doi:10.1002/(sici)1097-4636(199607)32:3<309::aid-jbm3>3.0.co;2-m"
    )
    assert normalize_doi("see (doi:10.1000/abc)") is None  # text with other words is not a DOI


def test_arxiv_ids_are_normalised() -> None:
    assert canonical_key("arXiv:2101.00001v3", "x") == canonical_key("https://arxiv.org/abs/2101.00001", "x")


def test_content_key_ignores_case_and_whitespace() -> None:
    a = EvidenceItem("The  Earth\nis round.")
    b = EvidenceItem("the earth is round.")
    assert a == b and hash(a) == hash(b)
    assert a.key.startswith("sha256:")
    assert a != EvidenceItem("The Earth is flat.")


def test_plain_source_ids_are_identities() -> None:
    assert EvidenceItem("x", source_id="doc-42").key == "src:doc-42"


def test_doc_hash_is_sha256_prefix_of_content() -> None:
    import hashlib

    assert EvidenceItem("abc").doc_hash == hashlib.sha256(b"abc").hexdigest()[:16]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"content": "  "}, "content"),
        ({"content": "x", "confidence": 1.5}, "confidence"),
        ({"content": "x", "quality": -0.1}, "quality"),
        ({"content": "x", "span": (5, 2)}, "span"),
    ],
)
def test_invalid_evidence_is_refused_with_the_field_named(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        EvidenceItem(**kwargs)  # type: ignore[arg-type]


def test_round_trip_keeps_span_and_key() -> None:
    item = EvidenceItem("Fossils match.", source_id="doc-1", span=(10, 24), document_id="d1", confidence=0.7)
    again = EvidenceItem.from_dict(item.to_dict())
    assert again == item and again.span == (10, 24) and again.confidence == 0.7 and again.document_id == "d1"
