"""Shared pieces of the hypothesis fuzz tests: settings, an outcome tally and input strategies.

Every fuzz target runs a fixed number of generated inputs (``derandomize``: the same inputs on
every run and machine, no example database), counts what each input led to, and writes one
results row with those counts through ``record()`` once the property held for all of them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.reliability.reliability_support import record


def fuzz_settings(examples: int) -> settings:
    """``examples`` deterministic inputs; no deadline (a hang is caught by the test's timeout)."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@dataclass
class Outcomes:
    """How many inputs ended in each outcome (``parsed``, ``IngestionError`` …)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(self.counts.items()))

    def record(self, target: str, fault: str, behaviour: str, *, lost: int = 0, duplicated: int = 0) -> None:
        """One results row ``fuzz[target]``; call it only after the property held for every input."""
        assert self.total > 0, "no input was generated"
        record(
            f"fuzz[{target}]",
            f"{fault} ({self.total} inputs, derandomized)",
            f"{behaviour} ({self.summary()})",
            lost=lost,
            duplicated=duplicated,
        )


#: Text without unpaired surrogates (which the fake HTTP server could not even send).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
#: Any JSON value, NaN and infinities included.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
#: LLM answers: prose around JSON, fences, broken JSON, Python literals, escapes of NUL and surrogates.
_ANSWER_TOKENS = [
    "{", "}", "[", "]", '"', "'", ",", ":", "```json\n", "```", "True", "None", "null", "NaN", "1e999",
    '"hypothesis"', '"claims"', '"edges"', '"evidence"', '"evidence_ids"', '"results"', '"id"', '"text"',
    '"src"', '"tgt"', '"relation"', '"supports"', '"entailment"', '"label"', "0.5", "1", "-1", " ", "\n",
    "Sure! ", "\\u0000", "\\ud800",
]  # fmt: skip
ANSWERS = st.one_of(
    st.lists(st.one_of(st.sampled_from(_ANSWER_TOKENS), TEXT), max_size=40).map("".join),
    JSON_VALUES.map(json.dumps),
    st.tuples(st.sampled_from(["", "Answer: ", "```json\n"]), JSON_VALUES.map(json.dumps)).map("".join),
)
