"""What the side check and the cap weigh: opposition beyond each narrative's own contradiction.

The reported opposition of a pair is the narrative score (:mod:`cns.metrics.narrative`). With the
shipped NLI model that score is high for almost any two texts on one question: two halves of one
document, or an overview that lists arguments of both sides, look about as opposed to a side as
the other side does. The self contrast (:mod:`cns.metrics.self_contrast`) asks a sharper
question — do the two narratives contradict each other *more than each contradicts itself*? —
but as the reported score it removes true pairs whose documents contradict themselves as much
(two DEV debates lose their pair, docs/opposition.md).

So, with ``pair_search.side_contrast`` (the default), the self-contrasted opposition is used
only where it decides *between* pairs, and never to reject a pair on its own:

* **the side check votes with it**: halves of one side, and overviews that agree with each other,
  stop voting as opponents, so fewer pairs land on the wrong side of the cut;
* **the cap ranks by it**: pairs without shared evidence are ordered by contrasted chirality before
  ``population.max_pairs`` is applied, so a pair of two narratives that each argue one side comes
  before a pair with a narrative that argues both (its own statements contradict each other, so
  its contrast against anyone is low).

The thresholds still see the raw score, so no pair that qualified before is rejected by the
contrast alone. Pairs that share evidence keep their raw score here too
(``chirality.contrast_shared_evidence``). Only the ``narrative`` method has a self contrast; for
the other methods the judged oppositions are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cns.config.settings import ChiralityMethod, CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.pairs.scoring import PairMatches, candidate_opposition
from cns.ports import Embedder, NLIModel

JudgedRow = tuple[int, int, float, float]  # (row a, row b, opposition, relevance)


def contrasted(
    snos: Sequence[StructuredNarrativeObject],
    judged: Sequence[JudgedRow],
    config: CNSConfig,
    *,
    nli: NLIModel | None,
    embedder: Embedder | None,
    facts: PairMatches | None = None,
) -> tuple[list[JudgedRow], int]:
    """``judged`` with each opposition replaced by its self-contrasted value, and the NLI pairs spent.

    Unchanged (and 0 pairs) when ``pair_search.side_contrast`` is off, the method is not
    ``narrative``, there is no NLI model, or nothing was judged.
    """
    cfg = config.chirality
    if not config.pair_search.side_contrast or cfg.method is not ChiralityMethod.NARRATIVE:
        return list(judged), 0
    if nli is None or not judged:
        return list(judged), 0
    a = np.array([j[0] for j in judged], dtype=np.int64)
    b = np.array([j[1] for j in judged], dtype=np.int64)
    on = cfg.model_copy(update={"self_contrast": True})
    result = candidate_opposition(snos, a, b, config=on, nli=nli, embedder=embedder, facts=facts)
    rows = [(i, j, float(o), r) for (i, j, _o, r), o in zip(judged, result.opposition.tolist(), strict=True)]
    return rows, result.nli_pairs


def by_key(
    snos: Sequence[StructuredNarrativeObject], judged: Sequence[JudgedRow]
) -> dict[tuple[str, str], float]:
    """Opposition per canonical id pair (the largest when a pair was judged on two routes)."""
    out: dict[tuple[str, str], float] = {}
    for i, j, o, _r in judged:
        x, y = snos[i].sno_id, snos[j].sno_id
        key = (x, y) if x < y else (y, x)
        out[key] = max(out.get(key, 0.0), o)
    return out
