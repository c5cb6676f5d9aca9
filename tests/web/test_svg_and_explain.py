"""The server-drawn plots and the critic breakdown: counts, escaping, what raised or lowered a score."""

from __future__ import annotations

import re

from cns.core.sno import StructuredNarrativeObject
from cns.web.explain import critic_breakdown
from cns.web.svg import Point, histogram, scatter
from cns.web.views import Span, document_segments


def test_histogram_counts_values_into_bins_and_marks_the_threshold() -> None:
    svg = histogram("trust", [0.05, 0.15, 0.16, 0.95, 1.0], bins=10, threshold=0.3, threshold_label="t")
    counts = [int(n) for n in re.findall(r"<title>(\d+) in \[", svg)]
    assert counts == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]  # 1.0 falls in the last bin
    assert 'class="threshold"' in svg and "t = 0.30" in svg
    assert "(n=5)" in svg


def test_scatter_escapes_labels_and_links() -> None:
    svg = scatter(
        "pairs", [Point(0.2, 0.4, "<script>x</script>", "/ui/pairs/a?b=<c>")], x_label="c", y_label="e",
        x_threshold=0.1, y_threshold=0.2,
    )  # fmt: skip
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'href="/ui/pairs/a?b=&lt;c&gt;"' in svg
    assert svg.count('class="threshold"') == 2


def _evaluated(scores: dict[str, float], subs: dict[str, dict[str, float]]) -> StructuredNarrativeObject:
    sno = StructuredNarrativeObject("Tides move sand.")
    sno.evaluation = {
        "critic_results": {
            name: {"score": score, "explanation": f"{name} said so", "sub_scores": subs.get(name, {})}
            for name, score in scores.items()
        },
        "weights_used": {"grounding": 2.0, "logic": 1.0, "novelty": 1.0},
    }
    sno.trust_score = 0.5
    return sno


def test_breakdown_weights_contributions_and_what_moved_each_score() -> None:
    sno = _evaluated(
        {"grounding": 0.8, "logic": 0.5, "novelty": 0.2},
        {
            "logic": {"orphan": 1.0, "parsimony": 0.2, "coherence": 0.52},
            "novelty": {"parsimony_penalty": 0.06},
        },
    )
    breakdown = critic_breakdown(sno)
    by_name = {c.name: c for c in breakdown.critics}
    assert by_name["grounding"].weight == 0.5 and by_name["grounding"].contribution == 0.4
    assert [c.name for c in breakdown.critics] == ["grounding", "logic", "novelty"]  # by contribution
    parts = {p.name: p.effect for p in by_name["logic"].parts}
    assert parts == {"orphan": "raised", "parsimony": "lowered", "coherence": ""}
    assert by_name["novelty"].parts[0].effect == "lowered"  # a penalty always lowers
    assert by_name["grounding"].verdict == "strong" and by_name["novelty"].verdict == "weak"
    assert "Grounding (0.80) raised it most; novelty (0.20) held it back most" in breakdown.summary


def test_an_unevaluated_narrative_says_so() -> None:
    breakdown = critic_breakdown(StructuredNarrativeObject("Tides move sand."))
    assert breakdown.critics == [] and "not been evaluated" in breakdown.summary


def test_document_segments_keep_spans_in_order_and_mark_gaps() -> None:
    spans = [Span(10, 20, "first one.", "hypothesis"), Span(21, 30, "second.", "c1"), Span(15, 25, "x", "c2"),
             Span(100, 110, "far away.", "c3")]  # fmt: skip
    segments = document_segments(spans)
    assert [(s.text, s.mark) for s in segments] == [
        (" […10 characters…] ", ""),
        ("first one.", "hypothesis"),
        (" ", ""),
        ("second.", "c1"),
        (" […70 characters…] ", ""),
        ("far away.", "c3"),
    ]
    assert segments[1].anchor == "span-10-20"
