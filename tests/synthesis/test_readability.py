"""The readability checks catch the old stitched synthesis and pass clean prose."""

from __future__ import annotations

from cns.synthesis.readability import MAX_SENTENCE_WORDS, check_readability, split_sentences

OLD = (
    "Compton's measurements now leave the classical wave account without a reply when Millikan (1916) "
    "confirmed his photoelectric equation [[http://www.guardian.co.uk/x]], whereas This essay contends "
    "that the wave theory stands."
)
SOURCES = [
    "Millikan (1916) confirmed his photoelectric equation.",
    "This essay contends that the wave theory stands.",
]


def test_the_old_stitched_synthesis_fails_every_relevant_check() -> None:
    report = check_readability(OLD, sentence_starts=SOURCES)
    assert report.glued == ["when Millikan", "whereas This"]
    assert report.markup == ["[[http://www.guardian.co.uk/x]]"]
    assert not report.ok and len(report.problems()) == 3


def test_clean_prose_passes_and_names_are_not_flagged() -> None:
    text = "Account A (Light) states: “The wave theory of Young and Maxwell stands”. It cites [1], [2]."
    report = check_readability(text, sentence_starts=["Maxwell's theory explains interference."])
    assert report.ok, report.problems()
    assert report.sentences == 2 and report.max_words == 12


def test_a_join_the_source_already_contains_is_not_counted() -> None:
    quoted = "Account B states: “It is not true that Paris is the capital”."
    assert check_readability(quoted, sentence_starts=["Paris is the capital of France."]).glued == [
        "that Paris"
    ]
    sources = ["Paris is the capital of France.", "It is not true that Paris is the capital of France."]
    assert check_readability(quoted, sentence_starts=sources).ok


def test_lower_case_starts_long_sentences_and_bare_urls_are_flagged() -> None:
    long = " ".join(["Word"] + ["word"] * MAX_SENTENCE_WORDS) + "."
    report = check_readability(f"the start is lower case. {long} See https://example.org/x now.")
    assert report.lowercase_starts == ["the start is lower case."]
    assert report.long_sentences == [long] and report.markup == ["https://example.org/x"]


def test_abbreviations_do_not_end_a_sentence() -> None:
    assert split_sentences("Alpher et al. (1948) said so. Then e.g. this follows.") == [
        "Alpher et al. (1948) said so.",
        "Then e.g. this follows.",
    ]
