"""Where the corpus disagrees about a question: the pairs and opposing narratives among the hits.

Two sources, both shown with the reason they are shown:

* the **recorded chiral pairs** that have a side among the narratives found — the pair search
  already judged them (chirality, shared evidence, conflict points); a pair with both sides
  found is a disagreement about the question itself;
* **opposing narratives found together but never paired** (they share no evidence, or the pair
  search has not run since they arrived): their hypotheses are judged by the same opposition
  measure as the pair search (``chirality.method``, the NLI model by default), and a pair at or
  above ``search.opposition_threshold`` is shown. With the default ``narrative`` method the pair
  search's topic gate (``chirality.topic_gate``, on the stored hypothesis embeddings) applies
  too: two hypotheses about different questions ("the universe has no beginning", "the plates
  did not move") may read as opposed sentences, but the corpus does not disagree about anything.

Syntheses are left out of the second kind: a synthesis states both sides on purpose, so its
hypothesis "opposes" each parent without the corpus disagreeing about anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from cns.config.settings import ChiralityMethod, CNSConfig
from cns.core.ids import pair_id_for
from cns.core.records import PairRecord
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import opposition_scores
from cns.metrics.narrative import hypothesis_cosine, topic_gate
from cns.ports import Embedder, NLIModel
from cns.services.search.evidence import file_of
from cns.services.search.results import Disagreement, PairHit
from cns.synthesis.view import is_synthesis

#: most recorded pairs listed for one question
MAX_PAIRS = 10

Lookup = Callable[[str], StructuredNarrativeObject | None]


def pair_hits(
    found: Sequence[StructuredNarrativeObject], pairs_of: Callable[[str], list[PairRecord]], lookup: Lookup
) -> list[PairHit]:
    """Recorded pairs with a side among ``found``: both sides found first, then by potential."""
    found_ids = {sno.sno_id for sno in found}
    known = {sno.sno_id: sno for sno in found}
    seen: dict[str, PairHit] = {}
    for sno in found:
        for record in pairs_of(sno.sno_id):
            if record.pair_id in seen:
                continue
            a = known.get(record.sno_a) or lookup(record.sno_a)
            b = known.get(record.sno_b) or lookup(record.sno_b)
            if a is None or b is None:  # a side deleted meanwhile: the pair goes with it
                continue
            seen[record.pair_id] = PairHit(
                pair_id=record.pair_id,
                sno_a=a.sno_id,
                sno_b=b.sno_id,
                file_a=file_of(a),
                file_b=file_of(b),
                hypothesis_a=a.central_hypothesis,
                hypothesis_b=b.central_hypothesis,
                chirality=record.chirality,
                entanglement=record.entanglement,
                potential=record.potential,
                opposition=record.opposition,
                source=record.source,
                conflict_points=[c for c in record.conflicts if isinstance(c, dict)],
                both_found=record.sno_a in found_ids and record.sno_b in found_ids,
            )
    ranked = sorted(seen.values(), key=lambda p: (not p.both_found, -p.potential, p.pair_id))
    return ranked[:MAX_PAIRS]


def disagreements(
    found: Sequence[StructuredNarrativeObject],
    pairs: Sequence[PairHit],
    config: CNSConfig,
    *,
    nli: Callable[[], NLIModel],
    embedder: Embedder,
) -> list[Disagreement]:
    """Recorded pairs with both sides found, then opposing unpaired narratives, most opposed first."""
    out = [_recorded(p) for p in pairs if p.both_found]
    recorded = {p.pair_id for p in pairs}
    candidates = [
        (a, b)
        for a, b in itertools.combinations(found, 2)
        if pair_id_for(a.sno_id, b.sno_id) not in recorded
        and not is_synthesis(a)
        and not is_synthesis(b)
        and not _same_document(a, b)
    ]
    if candidates:
        texts = [(a.central_hypothesis, b.central_hypothesis) for a, b in candidates]
        scores = opposition_scores(texts, nli=nli(), embedder=embedder, config=config.chirality)
        threshold = config.search.opposition_threshold
        for (a, b), score in zip(candidates, scores.tolist(), strict=True):
            gated = score * _on_topic(a, b, config)
            if gated >= threshold:
                out.append(_judged(a, b, float(gated), threshold))
    return sorted(out, key=lambda d: (-d.opposition, d.sno_a, d.sno_b))


def _on_topic(a: StructuredNarrativeObject, b: StructuredNarrativeObject, config: CNSConfig) -> float:
    """The pair search's topic gate for two hypotheses (1 for another method, or without vectors)."""
    cosine = hypothesis_cosine(a, b)
    if config.chirality.method is not ChiralityMethod.NARRATIVE or cosine is None:
        return 1.0
    return topic_gate(cosine, *config.chirality.topic_gate)


def _recorded(p: PairHit) -> Disagreement:
    why = (
        f"the pair search recorded these two as a chiral pair (chirality {p.chirality:.2f}, "
        f"opposition {p.opposition:.2f})"
    )
    return Disagreement(
        p.sno_a, p.sno_b, p.file_a, p.file_b, p.hypothesis_a, p.hypothesis_b, p.opposition, p.pair_id, why
    )


def _same_document(a: StructuredNarrativeObject, b: StructuredNarrativeObject) -> bool:
    doc = a.metadata.get("document_id")
    return doc is not None and doc == b.metadata.get("document_id")


def _judged(
    a: StructuredNarrativeObject, b: StructuredNarrativeObject, score: float, threshold: float
) -> Disagreement:
    first, second = (a, b) if a.sno_id < b.sno_id else (b, a)
    return Disagreement(
        first.sno_id,
        second.sno_id,
        file_of(first),
        file_of(second),
        first.central_hypothesis,
        second.central_hypothesis,
        round(score, 4),
        None,
        f"not a recorded pair; their hypotheses oppose each other ({score:.2f} ≥ "
        f"search.opposition_threshold {threshold:g})",
    )
