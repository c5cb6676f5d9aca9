"""With the real MiniLM embedder, the narrative a question is about ranks first — even when the
question shares no content word with it (which the word-hash fake cannot do)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.config import CNSConfig
from cns.models import load_embedder
from cns.services.runtime import build_runtime
from cns.services.search import search
from cns.testing.fakes import RuleNLI

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CORPUS = {
    "coffee.txt": (
        "Coffee and memory\n\nWe argue that coffee improves memory in adults. In a trial, 100 adults who drank "
        "two cups a day recalled more words a day later. Therefore a morning coffee helps recall.\n"
    ),
    "plates.txt": (
        "Moving plates\n\nWe argue that the continents move across the surface of the Earth. The sea floor "
        "spreads from the ocean ridges. Therefore the Atlantic widens every year.\n"
    ),
    "bread.txt": (
        "Slow dough\n\nWe argue that bread tastes better when the dough rises slowly in the cold. Yeast makes "
        "more flavour over two days. Therefore bakers should rest the dough overnight.\n"
    ),
    "light.txt": (
        "Light as a wave\n\nWe argue that light is a wave. Two slits make bright and dark fringes on a "
        "screen. Therefore light interferes with itself.\n"
    ),
}
QUESTIONS = {
    "Does drinking caffeine help people remember things?": "coffee.txt",
    "Is the Atlantic Ocean getting wider?": "plates.txt",
    "How long should I let my loaf ferment?": "bread.txt",
}


def test_the_relevant_narrative_ranks_first_with_minilm(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    # every narrative is ranked (no similarity floor), so "first" is first among all four
    config = CNSConfig(
        data_dir=tmp_path / "data", models={"nli_backend": "fake"}, search={"min_similarity": -1.0}
    )
    embedder = load_embedder(config)
    assert embedder.name.endswith("all-MiniLM-L6-v2") or "minilm" in embedder.name.lower(), embedder.name
    with build_runtime(config, "cli", embedder=embedder, nli=RuleNLI()) as rt:
        report = rt.manager.ingest_paths([folder])
        assert len(report.ingested) == len(CORPUS), report.failed
        for question, expected in QUESTIONS.items():
            result = search(rt, question, include_archived=True)
            assert len(result.narratives) == len(CORPUS), question
            ranked = [Path(n.file or "").name for n in result.narratives]
            assert ranked[0] == expected, (question, ranked, [n.score for n in result.narratives])
            assert result.claims and Path(result.claims[0].file or "").name == expected, question
