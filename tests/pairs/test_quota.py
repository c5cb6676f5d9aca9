"""The cap on reported pairs is shared across questions: each question's best pair before any second."""

from __future__ import annotations

from cns.pairs.quota import question_of, share_cap
from cns.pairs.types import ChiralPair
from tests.conftest import make_sno


def pair(a: str, b: str, opposition: float = 0.5) -> ChiralPair:
    x, y = make_sno(f"{a} thesis", sno_id=a), make_sno(f"{b} thesis", sno_id=b)
    return ChiralPair(x, y, 0.1, 0.0, 0.0, set(), opposition=opposition)


def test_questions_are_groups_of_narratives_linked_by_pairs() -> None:
    pairs = [pair("a1", "a2"), pair("b1", "b2"), pair("a2", "a3"), pair("c1", "c2"), pair("b2", "c1")]
    # a* form one question; b* and c* are linked by the (b2, c1) pair
    assert question_of(pairs) == [0, 1, 0, 1, 1]


def test_below_the_cap_nothing_changes() -> None:
    pairs = [pair("a1", "a2"), pair("a1", "a3"), pair("b1", "b2")]
    assert share_cap(pairs, 3) == pairs
    assert share_cap(pairs, 5) == pairs


def test_a_crowded_question_does_not_push_out_another_questions_only_pair() -> None:
    # question a: an overview-like narrative a0 opposed to five others, ranked first;
    # questions b and c have one pair each, ranked last
    crowd = [pair("a0", f"a{k}", 0.8 - 0.01 * k) for k in range(1, 6)]
    pairs = [*crowd, pair("b1", "b2", 0.5), pair("c1", "c2", 0.4)]
    kept = share_cap(pairs, 4)
    # round 0: a's best, b, c; round 1: a's second — in the original order
    assert [p.key for p in kept] == [p.key for p in (crowd[0], crowd[1], pairs[5], pairs[6])]
    assert pairs[:4] != kept  # a global cut would have kept four pairs of question a


def test_pinned_pairs_are_always_kept_and_count_in_their_question() -> None:
    pairs = [pair("a1", "a2"), pair("a1", "a3"), pair("a1", "a4"), pair("b1", "b2"), pair("a2", "a5")]
    # the first two (pairs that share evidence) are pinned; both are question a's, so b's pair
    # (round 0) comes before a's third pair (round 2)
    kept = share_cap(pairs, 3, pinned=2)
    assert [p.key for p in kept] == [pairs[0].key, pairs[1].key, pairs[3].key]
    # pinned beyond the limit: the best-first cut of the pinned pairs
    assert share_cap(pairs, 1, pinned=2) == pairs[:1]
