"""Readability checks for synthesized prose: can a reader follow it sentence by sentence?

The old offline synthesizer glued the parents' sentences together with "when"/"whereas", which
produced text such as "… without a reply when Millikan (1916) confirmed …, whereas This essay
contends …" and left wiki-style link markup in place. These checks catch exactly those failures,
so the benchmark can count them and the tests can assert they never come back:

* **glued connective** — a connective ("when", "whereas", "while", "and", "but", …) followed by a
  capitalised word that opens a sentence (a function word such as "This" or "The", or the first
  word of one of the given source sentences);
* **raw markup** — ``[[…]]`` wiki links, ``[text](url)`` markdown links, bare URLs, HTML tags;
* **lower-case start** — a sentence that does not start with a capital (or a digit, quote, bracket);
* **long sentence** — more than :data:`MAX_SENTENCE_WORDS` words.

Pure functions, no I/O: used by the synthesizer's tests and by ``benchmarks/synthesis_eval.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_SENTENCE_WORDS = 45
CONNECTIVES = frozenset(
    {"when", "whereas", "while", "and", "but", "because", "although", "though", "since", "that", "if", "so"}
)
#: Capitalised forms of these words almost always start a sentence, never a name.
_OPENER_WORDS = """the this that these those it its we our they their there here he she his her i in on at
for from by with as a an to of however moreover thus therefore hence yet still such some many most
all both each no not one my you your what which who how why when where while if although though
because since after before during people evidence studies research"""
SENTENCE_OPENERS = frozenset(_OPENER_WORDS.split())
_MARKUP = re.compile(
    r"\[\[[^\]]*\]\]|\[[^\]]+\]\((?:https?://|www\.)[^)]*\)|(?:https?://|www\.)\S+|</?[a-zA-Z][^>]{0,200}>"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’»)]*\s+(?=[\"“‘«(\[]*[A-Z0-9])")
_WORD = re.compile(r"[\w'’-]+")
_GLUE = re.compile(r"\b(" + "|".join(sorted(CONNECTIVES)) + r")\s+[\"“‘«(]*([A-Z][\w'’-]*)")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|et al|cf|vs|Dr|Mr|Mrs|Ms|Prof|Fig|No|pp|ca)\.\s*$")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (a period after a common abbreviation does not end one)."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        piece = text[start : match.start()]
        if _ABBREVIATIONS.search(piece):
            continue
        parts.append(piece)
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def word_count(sentence: str) -> int:
    return len(_WORD.findall(sentence))


def raw_markup(text: str) -> list[str]:
    """Every piece of link or tag markup left in ``text``."""
    return [m.group(0) for m in _MARKUP.finditer(text)]


def _prefix(text: str, words: int = 3) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(text)[:words])


def glued_connectives(text: str, sentence_starts: Iterable[str] = ()) -> list[str]:
    """``"whereas This"``-style joins: a connective directly followed by a sentence opening.

    An opening is a capitalised function word ("This", "The", "In") or the first three words of one
    of ``sentence_starts`` (sentences of the source texts) — that is how "when Millikan (1916)
    confirmed …" is caught when the source has a sentence starting so, while "Young and Maxwell"
    is not flagged for a source sentence starting "Maxwell's theory". A join that the source
    sentences themselves contain (a quoted parent sentence) is the parent's wording, not a join
    the synthesis made, and is not counted.
    """
    sources = [s for s in sentence_starts if s.strip()]
    prefixes = {p for p in (_prefix(s) for s in sources) if len(p) == 3}
    lowered = [" ".join(_WORD.findall(s.lower())) for s in sources]
    found = []
    for match in _GLUE.finditer(text):
        word = match.group(2)
        following = _prefix(text[match.start(2) :])
        if word.lower() in SENTENCE_OPENERS or following in prefixes:
            window = " ".join((match.group(1).lower(), *following))
            if not any(window in s for s in lowered):
                found.append(f"{match.group(1)} {word}")
    return found


def _starts_with_capital(sentence: str) -> bool:
    first = sentence.lstrip('"“‘«([*-– ')
    return bool(first) and (first[0].isupper() or first[0].isdigit())


@dataclass
class ReadabilityReport:
    """The checks for one text; ``ok`` when none failed."""

    sentences: int
    max_words: int
    mean_words: float
    glued: list[str] = field(default_factory=list)
    markup: list[str] = field(default_factory=list)
    lowercase_starts: list[str] = field(default_factory=list)
    long_sentences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.glued or self.markup or self.lowercase_starts or self.long_sentences)

    def problems(self) -> list[str]:
        """The failures in plain words (empty when :attr:`ok`)."""
        out = [f"glued connective before a sentence start: {g!r}" for g in self.glued]
        out += [f"raw markup: {m[:60]!r}" for m in self.markup]
        out += [f"sentence does not start with a capital: {s[:60]!r}" for s in self.lowercase_starts]
        out += [
            f"sentence of {word_count(s)} words (max {MAX_SENTENCE_WORDS}): {s[:60]!r}"
            for s in self.long_sentences
        ]
        return out


def check_readability(
    texts: str | Sequence[str], *, sentence_starts: Iterable[str] = (), max_words: int = MAX_SENTENCE_WORDS
) -> ReadabilityReport:
    """Run every check over ``texts`` (one string or several, e.g. the sections of a synthesis)."""
    chunks = [texts] if isinstance(texts, str) else list(texts)
    starts = list(sentence_starts)
    sentences = [s for chunk in chunks for s in split_sentences(chunk)]
    lengths = [word_count(s) for s in sentences]
    return ReadabilityReport(
        sentences=len(sentences),
        max_words=max(lengths, default=0),
        mean_words=sum(lengths) / len(lengths) if lengths else 0.0,
        glued=[g for chunk in chunks for g in glued_connectives(chunk, starts)],
        markup=[m for chunk in chunks for m in raw_markup(chunk)],
        lowercase_starts=[s for s in sentences if not _starts_with_capital(s)],
        long_sentences=[s for s, n in zip(sentences, lengths, strict=True) if n > max_words],
    )
