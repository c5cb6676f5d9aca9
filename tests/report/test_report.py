from __future__ import annotations

from pathlib import Path

import networkx as nx

from cns.config import CNSConfig
from cns.core.sno import SNOStatus
from cns.critics.evaluator import Evaluator
from cns.models import load_embedder, load_nli
from cns.pairs.types import JudgedCandidate
from cns.report import PairView, ReportData, render_report, sno_to_mermaid, write_graph_exports, write_report
from tests.conftest import make_sno


def evaluated_pair(config: CNSConfig) -> tuple[PairView, list]:  # type: ignore[type-arg]
    a = make_sno(
        "Continents drift <slowly> across the mantle.",
        ["Fossils match across oceans."],
        [("Fossils match across oceans.", "doi:10.1038/199947a0")],
        sno_id="a" * 32,
    )
    b = make_sno(
        "Continents are fixed in place.",
        ["Mountains rise by vertical uplift."],
        [("Mountains rise by vertical uplift.", "doi:10.1038/199947a0")],
        sno_id="b" * 32,
    )
    Evaluator(config, embedder=load_embedder(config), nli=load_nli(config=config)).evaluate_population([a, b])
    a.status = b.status = SNOStatus.ACTIVE
    synthesis = make_sno(
        "Continents drift where sea floor spreads; elsewhere they look fixed.",
        ["Fossils match across oceans."],
    )
    synthesis.trust_score = 0.7
    synthesis.metadata["synthesizer"] = "extractive"
    pair = PairView(a, b, 0.6, 0.5, 0.55, ["doi:10.1038/199947a0"],
                    [{"claim_a": "Fossils match", "claim_b": "Mountains rise", "score": 0.8}],
                    synthesis=synthesis, synthesis_accepted=True)  # fmt: skip
    return pair, [a, b]


def test_report_contains_pairs_plots_and_escapes_text(fake_config: CNSConfig, tmp_path: Path) -> None:
    pair, snos = evaluated_pair(fake_config)
    ids = (snos[0].sno_id, snos[1].sno_id)
    judged = [JudgedCandidate(*ids, "evidence", 0.9, 1.0, 0.6, 0.5, 0.55),
              JudgedCandidate(*ids, "opposition", 0.1, 1.0, 0.02, 0.0, 0.0, "opposition")]  # fmt: skip
    data = ReportData("CNS run", snos, [pair], judged=judged,
                      thresholds={"chirality": 0.25, "entanglement": 0.05}, skipped=[("empty.txt", "file is empty")])  # fmt: skip
    html = render_report(data)
    assert html.count("data:image/png;base64,") == 3 and "<svg" in html
    assert 'id="pair-count">1<' in html and 'id="accepted-count">1<' in html
    assert "Continents drift &lt;slowly&gt;" in html and "<slowly>" not in html  # autoescaped
    assert "doi:10.1038/199947a0" in html and "Synthesis accepted" in html and "extractive" in html
    assert "file is empty" in html
    path = write_report(data, tmp_path / "out" / "report.html")
    written = path.read_text(encoding="utf-8")
    assert (
        written.startswith("<!doctype html>")
        and 'id="pair-count">1<' in written
        and path.stat().st_size > 5000
    )
    assert not path.with_suffix(".html.tmp").exists()  # written atomically: no temporary file left
    assert snos[0].reasoning_graph.nodes["root"].keys() == {"claim"}  # drawing did not mutate the SNO


def test_mermaid_and_graphml_exports(tmp_path: Path) -> None:
    sno = make_sno('Light is a "wave".', ["Interference fringes appear."], sno_id="c" * 32)
    text = sno_to_mermaid(sno)
    assert (
        text.startswith("flowchart BT")
        and "n_claim_1 -->|supports| n_root" in text
        and "#quot;wave#quot;" in text
    )
    assert write_graph_exports([sno], tmp_path) == 1
    graph = nx.read_graphml(tmp_path / f"{'c' * 32}.graphml")
    assert graph.nodes["claim_1"]["content"] == "Interference fringes appear."
    assert graph.edges["claim_1", "root"]["relation"] == "supports"


def test_graph_drawings_are_reused_from_the_svg_cache(
    fake_config: CNSConfig, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import cns.report.html as html_module

    pair, snos = evaluated_pair(fake_config)
    data = ReportData("CNS run", snos, [pair])
    first = render_report(data, svg_cache=tmp_path / "svg")
    assert len(list((tmp_path / "svg").glob("*.svg"))) == 3  # both parents and the synthesis

    def fail(_: object) -> str:
        raise AssertionError("a cached graph was drawn again")

    monkeypatch.setattr(html_module, "reasoning_graph_svg", fail)
    second = render_report(data, svg_cache=tmp_path / "svg")
    assert second.count("<svg") == first.count("<svg") > 0


def test_report_shows_synthesis_sections_references_and_provenance(embedder, nli) -> None:  # type: ignore[no-untyped-def]
    from cns.synthesis import SynthesisEngine
    from tests.synthesis.synth_fixtures import config, evaluator, make_pair

    cf = config()
    pair = make_pair(embedder, nli)
    result = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli)).synthesize(pair)
    assert result.sno is not None
    view = PairView(pair.sno_a, pair.sno_b, pair.chirality, pair.entanglement, pair.potential,
                    sorted(pair.shared_evidence), [c.to_dict() for c in pair.conflict_points],
                    synthesis=result.sno, synthesis_accepted=result.accepted)  # fmt: skip
    html = render_report(ReportData("run", [pair.sno_a, pair.sno_b, result.sno], [view]))
    for title in (
        "Common ground",
        "Point of conflict",
        "What the shared evidence shows for each side",
        "Open question",
    ):
        assert f"<h5>{title}</h5>" in html
    assert "For account A, the shared evidence [1] supports: “caffeine makes workers more alert”." in html
    assert "Provenance: 2 of 2 claims traced to source spans; hypothesis supported" in html
    assert (
        '<li value="1"><code>doi:10.1/trial</code>' in html
        and '<li value="2"><code>doi:10.1/sleep</code>' in html
    )
    assert "offline" in html
