"""Shared evidence beyond citation keys: two evidence items that state the *same fact*.

Two documents can argue over the same statistic, quote, event or finding without a common
reference list; identical canonical keys never pair them. Here an item of ``A`` and an item of
``B`` state the same fact when the NLI model finds each entails the other (both directions
≥ ``evidence_matching.entailment``) and, if either quotes numbers, both quote the same numbers —
"unemployment rose to 5 %" and "unemployment rose to 7 %" are worded alike and are different
facts. Wording alone decides nothing: embedding similarity only chooses which pairs to judge.

A fact match counts as shared evidence with weight ``w = evidence_matching.fact_weight`` (below
an identical key, which counts 1), in a Jaccard index where each match merges two items::

    E = (n_key + w · n_fact) / (n_key + n_fact + unmatched sources of A + unmatched sources of B)

With no fact match this is exactly the key Jaccard; a pair that shares only facts has E ≤ w.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import EvidenceMatchingConfig
from cns.ports import ENTAILMENT, NLIModel

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")
#: Small integers in prose ("one of 2 reasons", list markers) are not the statistic itself.
_TRIVIAL = frozenset({"0", "1"})


@dataclass(frozen=True)
class EvidenceMatch:
    """One shared piece of evidence of a pair: an identical key, or two items stating one fact."""

    kind: Literal["key", "fact"]
    key_a: str
    key_b: str
    score: float
    text_a: str
    text_b: str
    a_is_source: bool = True
    b_is_source: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key_a": self.key_a,
            "key_b": self.key_b,
            "score": round(self.score, 6),
            "text_a": self.text_a,
            "text_b": self.text_b,
            "a_is_source": self.a_is_source,
            "b_is_source": self.b_is_source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceMatch:
        """The match of :meth:`to_dict` (a stored pair keeps its matches)."""
        return cls(
            "fact" if data.get("kind") == "fact" else "key",
            str(data.get("key_a", "")),
            str(data.get("key_b", "")),
            float(data.get("score", 0.0)),
            str(data.get("text_a", "")),
            str(data.get("text_b", "")),
            bool(data.get("a_is_source", True)),
            bool(data.get("b_is_source", True)),
        )


def numbers_in(text: str) -> frozenset[str]:
    """The numbers a text quotes, normalised (``1,000`` → ``1000``, ``5.0`` → ``5``)."""
    found = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "").lstrip("+")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        if value not in _TRIVIAL:
            found.add(value)
    return frozenset(found)


def numbers_agree(a: str, b: str) -> bool:
    """True when neither text quotes a number, or both quote the same ones."""
    return numbers_in(a) == numbers_in(b)


def judge_facts(
    pairs: Sequence[tuple[str, str]], *, nli: NLIModel, config: EvidenceMatchingConfig
) -> NDArray[np.float64]:
    """Per pair, ``min(p_entail(a→b), p_entail(b→a))`` if it states the same fact, else 0 (one NLI call)."""
    if not pairs:
        return np.zeros(0, dtype=np.float64)
    probs = np.asarray(nli.predict([*pairs, *((b, a) for a, b in pairs)]), dtype=np.float64)
    n = len(pairs)
    score = np.minimum(probs[:n, ENTAILMENT], probs[n:, ENTAILMENT])
    agree = np.array([not config.numbers_must_agree or numbers_agree(a, b) for a, b in pairs], dtype=bool)
    result: NDArray[np.float64] = np.where((score >= config.entailment) & agree, score, 0.0)
    return result


def entanglement_with_facts(
    n_key: int, n_fact: int, unmatched_a: int, unmatched_b: int, fact_weight: float
) -> float:
    """The Jaccard index of the module docstring (0 when nothing is held)."""
    total = n_key + n_fact + unmatched_a + unmatched_b
    return (n_key + fact_weight * n_fact) / total if total > 0 else 0.0
