"""Word lists the heuristic extractor reads: thesis cues, argument markers, discourse connectives.

Kept as data in one place so they can be reviewed and extended without touching the scoring
code. Every phrase is matched case-insensitively on word boundaries.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cns.core.graph import RelationType

#: Phrases that announce the author's central claim, with how strongly they do.
HYPOTHESIS_CUES: dict[str, float] = {
    "we argue": 1.0,
    "we propose": 1.0,
    "we show": 1.0,
    "we conclude": 1.0,
    "we demonstrate": 1.0,
    "we find": 0.9,
    "we contend": 1.0,
    "we claim": 1.0,
    "i argue": 1.0,
    "i contend": 1.0,
    "i propose": 1.0,
    "this paper argues": 1.0,
    "this paper shows": 1.0,
    "this paper proposes": 1.0,
    "this essay argues": 1.0,
    "this article argues": 1.0,
    "this study shows": 0.9,
    "this paper": 0.7,
    "this essay": 0.6,
    "our findings": 0.8,
    "our results show": 0.9,
    "our thesis": 1.0,
    "the thesis": 0.7,
    "evidence shows": 0.9,
    "evidence suggests": 0.8,
    "evidence indicates": 0.8,
    "our analysis": 0.8,
    "our analysis suggests": 0.9,
    "these findings": 0.6,
    "findings indicate": 0.8,
    "findings show": 0.8,
    "in conclusion": 0.9,
    "we conclude that": 1.0,
    "the central claim": 0.9,
    "the main claim": 0.8,
    "taken together": 0.7,
    "in summary": 0.6,
    "overall": 0.4,
    "therefore": 0.5,
    "thus": 0.4,
    "hence": 0.4,
    "best explained": 0.6,
    "it follows that": 0.5,
    "this essay contends": 1.0,
    "this essay will argue": 1.0,
    "this article contends": 1.0,
    "i will argue": 1.0,
    "we will argue": 1.0,
    "i maintain": 0.9,
    "my position is": 1.0,
    "our position is": 1.0,
    "to conclude": 0.8,
    "to sum up": 0.7,
    "all in all": 0.6,
    "for these reasons": 0.8,
    "for all these reasons": 0.8,
    "it is clear that": 0.6,
}

#: Phrases that take a position on a question: obligation ("should", "must"), evaluation ("is a
#: good idea", "does more harm than good"), stated belief ("I believe").  Weaker than the thesis
#: cues above: a debate text states its position this way without announcing it, but an ordinary
#: argument sentence may use "should" too, so centrality and the title decide between them.
POSITION_CUES: dict[str, float] = {
    "should": 0.55,
    "should not": 0.6,
    "shouldn't": 0.6,
    "must": 0.5,
    "must not": 0.55,
    "ought to": 0.6,
    "ought not": 0.6,
    "need to": 0.4,
    "needs to": 0.4,
    "has to": 0.35,
    "have to": 0.35,
    "it is time to": 0.55,
    "good idea": 0.6,
    "bad idea": 0.6,
    "more harm than good": 0.6,
    "more good than harm": 0.6,
    "is wrong": 0.45,
    "is right": 0.4,
    "is justified": 0.5,
    "is not justified": 0.55,
    "is unjustified": 0.55,
    "is unacceptable": 0.5,
    "is necessary": 0.4,
    "is essential": 0.4,
    "is the best way": 0.45,
    "i believe": 0.5,
    "we believe": 0.5,
    "in my view": 0.5,
    "in my opinion": 0.5,
    "i think": 0.35,
    "i support": 0.5,
    "we support": 0.5,
    "i oppose": 0.5,
    "we oppose": 0.5,
    "in favour of": 0.4,
    "in favor of": 0.4,
}

#: Words that mark a sentence as part of an argument (a claim, not narration).
ARGUMENT_MARKERS = (
    "because",
    "since",
    "therefore",
    "thus",
    "hence",
    "consequently",
    "as a result",
    "however",
    "although",
    "whereas",
    "in contrast",
    "nevertheless",
    "evidence",
    "shows",
    "show",
    "suggests",
    "suggest",
    "indicates",
    "indicate",
    "demonstrates",
    "demonstrate",
    "implies",
    "imply",
    "means",
    "explains",
    "explain",
    "must",
    "should",
    "cannot",
    "proves",
    "confirms",
    "confirm",
    "supports",
    "contradicts",
    "refutes",
    "undermines",
    "argue",
    "argues",
    "claim",
    "claims",
    "found",
    "finds",
    "results",
    "data",
    "study",
    "studies",
    "measurements",
    "observations",
    "observed",
    "caused",
    "causes",
    "leads to",
    "led to",
    "explanation",
    "predicts",
    "predicted",
)
HEDGES = (
    "may",
    "might",
    "could",
    "likely",
    "unlikely",
    "possibly",
    "perhaps",
    "probably",
    "appears",
    "seems",
    "suggests",
    "tend to",
    "plausible",
)
BOOSTERS = (
    "clearly",
    "certainly",
    "undoubtedly",
    "in fact",
    "indeed",
    "strongly",
    "definitely",
    "decisively",
    "conclusively",
    "firmly",
)

#: Sentence-initial (or early) connectives and what they say about the link to the previous claim.
#: ``premise``: this sentence supports the one before; ``conclusion``: it follows from it;
#: ``contrast``: it argues against it; ``explains``/``generalizes``: as named.
DISCOURSE: dict[str, tuple[str, RelationType]] = {
    "because": ("premise", RelationType.SUPPORTS),
    "since": ("premise", RelationType.SUPPORTS),
    "as shown": ("premise", RelationType.SUPPORTS),
    "given that": ("premise", RelationType.SUPPORTS),
    "for example": ("premise", RelationType.SUPPORTS),
    "for instance": ("premise", RelationType.SUPPORTS),
    "moreover": ("premise", RelationType.SUPPORTS),
    "furthermore": ("premise", RelationType.SUPPORTS),
    "in addition": ("premise", RelationType.SUPPORTS),
    "indeed": ("premise", RelationType.SUPPORTS),
    "therefore": ("conclusion", RelationType.IMPLIES),
    "thus": ("conclusion", RelationType.IMPLIES),
    "hence": ("conclusion", RelationType.IMPLIES),
    "consequently": ("conclusion", RelationType.IMPLIES),
    "as a result": ("conclusion", RelationType.IMPLIES),
    "it follows that": ("conclusion", RelationType.IMPLIES),
    "however": ("contrast", RelationType.WEAKENS),
    "but": ("contrast", RelationType.WEAKENS),
    "yet": ("contrast", RelationType.WEAKENS),
    "in contrast": ("contrast", RelationType.CONTRADICTS),
    "on the contrary": ("contrast", RelationType.CONTRADICTS),
    "contrary to": ("contrast", RelationType.CONTRADICTS),
    "nevertheless": ("contrast", RelationType.WEAKENS),
    "on the other hand": ("contrast", RelationType.WEAKENS),
    "this explains": ("explains", RelationType.EXPLAINS),
    "which explains": ("explains", RelationType.EXPLAINS),
    "this would explain": ("explains", RelationType.EXPLAINS),
    "in general": ("generalizes", RelationType.GENERALIZES),
    "more generally": ("generalizes", RelationType.GENERALIZES),
    "generally": ("generalizes", RelationType.GENERALIZES),
}
#: How many leading words of a sentence are searched for a connective.
DISCOURSE_WINDOW_WORDS = 4

#: Phrases that introduce a view the author reports in order to answer it.
COUNTER_CUES = (
    "critics",
    "opponents",
    "skeptics",
    "sceptics",
    "some argue",
    "some have argued",
    "it has been argued",
    "it is often claimed",
    "some claim",
    "others argue",
    "some researchers",
    "objection",
    "objections",
    "rejected",
    "the opposing view",
    "on the contrary",
)

SECTION_THESIS = ("abstract", "summary", "conclusion", "conclusions", "discussion", "thesis")


@lru_cache(maxsize=256)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(phrase).replace(r"\ ", r"\s+") + r"\b", re.IGNORECASE)


@lru_cache(maxsize=16)
def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a whole list (longest phrase first), so a sentence is scanned once per list."""
    ordered = sorted(phrases, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)
    return re.compile(r"\b(?:" + body + r")\b", re.IGNORECASE)


def contains(text: str, phrase: str) -> bool:
    return phrase_pattern(phrase).search(text) is not None


def count_present(text: str, phrases: tuple[str, ...]) -> list[str]:
    """The phrases of ``phrases`` occurring in ``text`` (a longer phrase hides the shorter one inside it)."""
    found = {" ".join(m.group(0).lower().split()) for m in _alternation(phrases).finditer(text)}
    return [p for p in phrases if p in found]


def leading_connective(text: str) -> tuple[str, str, RelationType] | None:
    """The connective among the first few words, as ``(phrase, role, relation)``, longest first."""
    head = " ".join(text.split()[:DISCOURSE_WINDOW_WORDS]).lower()
    for phrase in sorted(DISCOURSE, key=len, reverse=True):
        match = phrase_pattern(phrase).search(head)
        if match and match.start() <= 12:
            role, relation = DISCOURSE[phrase]
            return phrase, role, relation
    for phrase in ("this explains", "which explains", "explains why"):
        if contains(text, phrase):
            return phrase, "explains", RelationType.EXPLAINS
    return None
