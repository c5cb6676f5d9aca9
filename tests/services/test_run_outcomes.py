"""Nothing a run does is silent, and nothing a document says is eaten on the way to the screen.

* files in the corpus folder that are not documents (``.py``, ``.json``) are skipped and listed
  with the reason, never ingested as prose;
* a narrative archived when the population is re-scored is counted in the summary line, listed
  with its reason, and shown in the report;
* bracketed text and file names reach the terminal as written (Rich markup is escaped), and links
  in a document become evidence references, not markup in the hypothesis or the claims.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.store.sql import SQLStore
from tests.services.run_corpus import write_corpus

FAKES = {"CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake"}
LATE = (
    "Continents drift\n\nBy E. Writer\n\nWe argue that continents drift because the mantle convects beneath "
    "them [1]. Convection carries the plates apart at the ridges [1]. Therefore the oceans widen.\n\n"
    "References\n1. Holmes, A. (1931). Radioactivity and earth movements. doi:10.1144/transed.18.3.559\n"
)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAKES.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "400")  # long temporary paths stay on one line


class _Sections(HTMLParser):
    """Text inside each element with an id, and the data-rule of each near-miss heading."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: dict[str, str] = {}
        self.rules: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("data-rule"):
            self.rules.append(str(found["data-rule"]))
        if tag in ("br", "img", "meta"):
            return
        self.open.append(str(found.get("id") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "img", "meta") and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for name in self.open:
            if name:
                self.text[name] = self.text.get(name, "") + data


def sections(html: str) -> _Sections:
    parser = _Sections()
    parser.feed(html)
    return parser


def test_run_lists_skipped_files_and_narratives_archived_at_rescore(
    fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path / "docs")
    (corpus / "tool.py").write_text("print('this is code, not an argument')\n", encoding="utf-8")
    (corpus / "data.json").write_text('{"claim": "not a document"}\n', encoding="utf-8")
    out, data = tmp_path / "out", tmp_path / "data"
    first = CliRunner().invoke(app, ["run", str(corpus), "--out", str(out), "--data-dir", str(data)])
    text = " ".join(first.output.split())
    assert first.exit_code == 0, first.output
    assert "ingested 4" in text and "skipped 3" in text
    assert "tool.py: not a document (extension '.py')" in text and "data.json: not a document" in text
    with SQLStore.open(data / "cns.sqlite3") as store:
        assert not any(str(s.metadata.get("source", "")).endswith((".py", ".json")) for s in store.list())
        trusts = {
            Path(str(s.metadata["source"])).name: s.trust_score or 0.0 for s in store.list(status="active")
        }
    # a stricter ingest threshold and one more document: the re-score archives the weakest narratives
    threshold = round(sorted(trusts.values())[1] + 0.001, 3)
    monkeypatch.setenv("CNS_THRESHOLDS__INGEST", str(threshold))
    (corpus / "late.txt").write_text(LATE, encoding="utf-8")
    second = CliRunner().invoke(app, ["run", str(corpus), "--out", str(out), "--data-dir", str(data)])
    text = " ".join(second.output.split())
    assert second.exit_code == 0, second.output
    weakest = sorted(trusts, key=trusts.__getitem__)[:2]
    assert f"archived at re-score {len(weakest)}" in text  # in the summary line
    for name in weakest:
        assert f"{name}: re-scored trust" in text and f"not above the ingest threshold {threshold}" in text
    page = sections((out / "report.html").read_text(encoding="utf-8"))
    for name in weakest:
        assert name in page.text["rescore-archived"] and "re-scored trust" in page.text["rescore-archived"]
        assert name in page.text["archived-table"]
    assert "tool.py" in (out / "report.html").read_text(encoding="utf-8")  # skipped inputs, with the reason


def test_the_report_reads_on_its_own(fakes: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["run", str(write_corpus(tmp_path / "docs")), "--out", str(out), "--data-dir", str(tmp_path / "d")],
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    page = sections(html)
    how = " ".join(page.text["how-to-read-text"].split())
    assert "chiral pair" in how and "opposition ≥ 0.25" in how and "cns why A B" in how
    legend = " ".join(page.text["legend"].split())
    for score in ("trust T", "grounding", "logic", "novelty", "opposition O", "topic gate", "chirality C",
                  "entanglement E", "potential P"):  # fmt: skip
        assert score in legend
    assert page.rules == [
        "topic gate",
        "opposition",
        "chirality",
        "entanglement",
        "potential",
        "side check",
        "max pairs",
    ]
    misses = " ".join(page.text["near-misses"].split())
    assert "particles.txt" in misses and "waves.txt" in misses  # file names, not ids
    pairs = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    for row in pairs:
        assert row["sno_a"][:12] not in misses and row["sno_b"][:12] not in misses
        assert Path(row["file_a"]).name in page.text["pairs"] and row["pair_id"][:12] in page.text["pairs"]
    assert int(page.text["judged-count"]) >= len(pairs)
    assert html.count("data:image/png;base64,") == 3


def test_plot_axes_follow_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """All chirality values at 0.08–0.15 used to sit in a corner of a fixed 0–1 axis."""
    from cns.pairs.types import JudgedCandidate
    from cns.report import plots

    limits: list[tuple[tuple[float, float], tuple[float, float]]] = []

    def keep(fig) -> str:  # type: ignore[no-untyped-def]
        limits.append((fig.axes[0].get_xlim(), fig.axes[0].get_ylim()))
        plots.plt.close(fig)
        return "data:image/png;base64,"

    monkeypatch.setattr(plots, "_png_data_uri", keep)
    judged = [JudgedCandidate(f"a{i}", f"b{i}", "evidence", 0.3 + i / 100, 1.0, 0.08 + i / 100, 0.4, 0.3)
              for i in range(8)]  # fmt: skip
    plots.pair_scatter(judged, chirality_min=0.03, entanglement_min=0.05)
    (x_low, x_high), (y_low, y_high) = limits[-1]
    assert 0.0 < x_low < 0.03 and 0.15 < x_high < 0.2  # chirality 0.08–0.15 and θ_C 0.03, not 0–1
    assert 0.0 < y_low < 0.05 and 0.4 < y_high < 0.5
    assert plots.data_range([0.5], []) == pytest.approx((0.49, 0.51))


def test_brackets_reach_the_terminal_and_links_become_evidence(fakes: None, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tags [draft].txt").write_text(
        "Electronic tags\n\nElectronic tags do not reduce reoffending because offenders breached them "
        "[[http://example.org/breach-report]] in most trials. The inspectorate found that tags failed [red] in "
        "practice, see http://example.org/inspectorate for the figures. Therefore tags should be abolished.\n",
        encoding="utf-8",
    )
    (docs / "links.md").write_text(
        "# Tags work\n\nElectronic tags reduce reoffending because offenders know they are watched, as "
        "[the ministry study](https://example.org/ministry-study) shows. Tagged offenders reoffend less than "
        "others [[http://example.org/tag-trial|the tag trial]]. Therefore tags should be kept.\n",
        encoding="utf-8",
    )
    data = ["--data-dir", str(tmp_path / "data")]
    ingested = CliRunner().invoke(app, ["ingest", str(docs), *data])
    assert ingested.exit_code == 0 and "tags [draft].txt" in ingested.output, ingested.output
    shown = CliRunner().invoke(app, ["show", "tags [draft].txt", *data])
    assert shown.exit_code == 0, shown.output
    assert "tags failed [red] in practice" in " ".join(shown.output.split())  # not swallowed as a style
    with SQLStore.open(tmp_path / "data" / "cns.sqlite3") as store:
        snos = {Path(str(s.metadata["source"])).name: s for s in store.list()}
    for name, keys in (("tags [draft].txt", {"url:example.org/breach-report", "url:example.org/inspectorate"}),
                       ("links.md", {"url:example.org/ministry-study", "url:example.org/tag-trial"})):  # fmt: skip
        sno = snos[name]
        statements = [sno.central_hypothesis, *(c.content for c in sno.claims())]
        for statement in statements:
            assert "http" not in statement and "[[" not in statement and "](" not in statement, statement
        assert keys <= sno.source_keys, sno.source_keys
    assert "the ministry study shows" in snos["links.md"].central_hypothesis
