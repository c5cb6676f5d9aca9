"""Word lists the heuristic extractor reads: thesis cues, argument markers, discourse connectives.

Kept as data in one place so they can be reviewed and extended without touching the scoring
code. Every phrase is matched case-insensitively on word boundaries; Chinese and Japanese
phrases (written without spaces, so without word boundaries) are matched anywhere. Each list
ends with its Chinese (simplified and traditional) and Japanese phrases, so that documents in
those languages get claims, connectives and thesis cues too.
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
    # Chinese
    "我们认为": 1.0,
    "我們認為": 1.0,
    "本文认为": 1.0,
    "本文認為": 1.0,
    "笔者认为": 1.0,
    "筆者認為": 1.0,
    "我认为": 0.9,
    "我認為": 0.9,
    "综上所述": 0.9,
    "綜上所述": 0.9,
    "总而言之": 0.8,
    "總而言之": 0.8,
    "总之": 0.8,
    "總之": 0.8,
    "结论是": 0.9,
    "結論是": 0.9,
    "证据表明": 0.9,
    "證據表明": 0.9,
    "研究表明": 0.8,
    "由此可见": 0.7,
    "由此可見": 0.7,
    "因此": 0.5,
    "所以": 0.4,
    # Japanese
    "と主張する": 1.0,
    "を主張する": 1.0,
    "と考える": 0.9,
    "結論として": 0.9,
    "以上のことから": 0.8,
    "本稿では": 0.8,
    "本論文では": 0.8,
    "と考えられる": 0.7,
    "要するに": 0.7,
    "と言える": 0.6,
    "したがって": 0.5,
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
    # Chinese
    "不应该": 0.6,
    "不應該": 0.6,
    "应该": 0.55,
    "應該": 0.55,
    "应当": 0.55,
    "應當": 0.55,
    "必须": 0.5,
    "必須": 0.5,
    # Japanese
    "べきではない": 0.6,
    "べきである": 0.55,
    "べきだ": 0.55,
    "必要がある": 0.4,
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
    # Chinese
    "因为",
    "因為",
    "所以",
    "因此",
    "然而",
    "但是",
    "虽然",
    "雖然",
    "表明",
    "显示",
    "顯示",
    "证明",
    "證明",
    "导致",
    "導致",
    "证据",
    "證據",
    "数据",
    "數據",
    "研究",
    "结果",
    "原因",
    # Japanese
    "なぜなら",
    "ため",
    "しかし",
    "したがって",
    "そのため",
    "示す",
    "示している",
    "証拠",
    "データ",
    "結果",
    "によって",
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
    # Chinese
    "因为": ("premise", RelationType.SUPPORTS),
    "因為": ("premise", RelationType.SUPPORTS),
    "由于": ("premise", RelationType.SUPPORTS),
    "由於": ("premise", RelationType.SUPPORTS),
    "例如": ("premise", RelationType.SUPPORTS),
    "比如": ("premise", RelationType.SUPPORTS),
    "此外": ("premise", RelationType.SUPPORTS),
    "而且": ("premise", RelationType.SUPPORTS),
    "因此": ("conclusion", RelationType.IMPLIES),
    "所以": ("conclusion", RelationType.IMPLIES),
    "因而": ("conclusion", RelationType.IMPLIES),
    "由此可见": ("conclusion", RelationType.IMPLIES),
    "由此可見": ("conclusion", RelationType.IMPLIES),
    "然而": ("contrast", RelationType.WEAKENS),
    "但是": ("contrast", RelationType.WEAKENS),
    "可是": ("contrast", RelationType.WEAKENS),
    "不过": ("contrast", RelationType.WEAKENS),
    "不過": ("contrast", RelationType.WEAKENS),
    "相反": ("contrast", RelationType.CONTRADICTS),
    # Japanese
    "なぜなら": ("premise", RelationType.SUPPORTS),
    "例えば": ("premise", RelationType.SUPPORTS),
    "さらに": ("premise", RelationType.SUPPORTS),
    "したがって": ("conclusion", RelationType.IMPLIES),
    "そのため": ("conclusion", RelationType.IMPLIES),
    "だから": ("conclusion", RelationType.IMPLIES),
    "しかし": ("contrast", RelationType.WEAKENS),
    "ところが": ("contrast", RelationType.WEAKENS),
    "だが": ("contrast", RelationType.WEAKENS),
    "逆に": ("contrast", RelationType.CONTRADICTS),
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
    # Chinese
    "批评者",
    "批評者",
    "反对者",
    "反對者",
    "有人认为",
    "有人認為",
    # Japanese
    "批判者",
    "反対派",
    "という意見もある",
)

SECTION_THESIS = (
    "abstract",
    "summary",
    "conclusion",
    "conclusions",
    "discussion",
    "thesis",
    *("摘要", "结论", "結論", "总结", "總結", "まとめ", "要旨", "考察"),
)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def is_cjk(phrase: str) -> bool:
    """Chinese or Japanese: written without spaces, so matched without word boundaries."""
    return _CJK.search(phrase) is not None


def _regex(phrase: str) -> str:
    body = re.escape(phrase).replace(r"\ ", r"\s+")
    return body if is_cjk(phrase) else r"\b" + body + r"\b"


@lru_cache(maxsize=256)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(_regex(phrase), re.IGNORECASE)


@lru_cache(maxsize=16)
def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a whole list (longest phrase first), so a sentence is scanned once per list."""
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile("|".join(_regex(p) for p in ordered), re.IGNORECASE)


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
        # a Chinese or Japanese connective opens the sentence (its "first words" have no spaces)
        if match and match.start() <= (1 if is_cjk(phrase) else 12):
            role, relation = DISCOURSE[phrase]
            return phrase, role, relation
    for phrase in ("this explains", "which explains", "explains why"):
        if contains(text, phrase):
            return phrase, "explains", RelationType.EXPLAINS
    return None
