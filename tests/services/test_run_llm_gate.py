"""``cns run`` checks the LLM once up front: fallback (recorded per SNO) or fail, never retries per document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply, refused_url
from tests.services.run_corpus import write_corpus


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")


def use_llm(monkeypatch: pytest.MonkeyPatch, url: str, *, on_unavailable: str = "fallback") -> None:
    monkeypatch.setenv("CNS_LLM__BACKEND", "ollama")
    monkeypatch.setenv("CNS_LLM__BASE_URL", url)
    monkeypatch.setenv("CNS_LLM__MODEL", "llama3.2")
    monkeypatch.setenv("CNS_LLM__ON_UNAVAILABLE", on_unavailable)
    monkeypatch.setenv("CNS_LLM__BACKOFF_SECONDS", "0.01")


def run(tmp_path: Path) -> tuple[int, str, Path]:
    corpus = write_corpus(tmp_path / "docs")
    out = tmp_path / "out"
    args = ["run", str(corpus), "--out", str(out), "--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output + (str(result.exception) if result.exception else ""), out


def snos(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "snos.jsonl").read_text().splitlines()]


def test_unreachable_llm_is_reported_once_and_every_sno_records_the_offline_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_llm(monkeypatch, refused_url())
    code, output, out = run(tmp_path)
    assert code == 0, output
    flat = " ".join(output.split())
    assert (
        flat.count("is unavailable") == 1 and "continuing with the offline extractor and synthesizer" in flat
    )
    assert '"event"' not in output  # no raw JSON log lines on the console
    made = snos(out)
    documents = [s for s in made if "parent_ids" not in s["metadata"]]  # type: ignore[operator]
    syntheses = [s for s in made if "parent_ids" in s["metadata"]]  # type: ignore[operator]
    assert len(documents) == 4 and syntheses
    for sno in documents:
        meta = sno["metadata"]
        assert meta["extractor"]["name"] == "heuristic"  # type: ignore[index]
        assert meta["extractor_fallback"].startswith("heuristic (llm unavailable: LLM ollama at")  # type: ignore[index]
    for sno in syntheses:
        assert sno["metadata"]["synthesizer_fallback"].startswith("offline (llm unavailable")  # type: ignore[index]


def test_failing_server_gets_one_probe_and_no_per_document_calls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeOpenAIServer(
        default=FakeReply.error(503, "loading model"), models=("llama3.2:latest",)
    ) as server:
        use_llm(monkeypatch, server.base_url)
        code, output, _ = run(tmp_path)
        assert code == 0, output
        assert [r.method for r in server.requests] == ["GET", "POST"]  # the check, then nothing: 4 documents
    assert "HTTP 503: loading model" in " ".join(output.split())


def test_on_unavailable_fail_stops_before_ingesting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_llm(monkeypatch, refused_url(), on_unavailable="fail")
    code, output, out = run(tmp_path)
    assert code == 1
    flat = " ".join(output.split())
    assert "Stopping before any document is ingested" in flat and "llm.on_unavailable: fail" in flat
    assert not out.exists() and not list((tmp_path / "data").glob("**/*.jsonl"))


def test_reachable_llm_is_used_without_a_fallback_note(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    good = '{"answer": "12", "confident": true}'
    with FakeOpenAIServer(default=good, models=("llama3.2:latest",)) as server:
        use_llm(monkeypatch, server.base_url)
        code, output, out = run(tmp_path)
        posts = len(server.completions)
    assert code == 0, output
    assert "unavailable" not in output
    documents = [s for s in snos(out) if "parent_ids" not in s["metadata"]]  # type: ignore[operator]
    # the probe passed, so the LLM extractor ran for each document (its replies fail validation and it
    # falls back per document, saying why — not "llm unavailable")
    assert posts > 1 and all(
        "llm unavailable" not in str(s["metadata"].get("extractor_fallback", ""))  # type: ignore[attr-defined]
        for s in documents
    )


def test_ingest_and_synthesize_commands_check_once_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_llm(monkeypatch, refused_url())
    corpus = write_corpus(tmp_path / "docs")
    data = ["--data-dir", str(tmp_path / "data")]
    ingested = CliRunner().invoke(app, ["ingest", str(corpus), *data])
    assert ingested.exit_code == 0, ingested.output
    assert " ".join(ingested.output.split()).count("is unavailable") == 1
    assert CliRunner().invoke(app, ["pairs", *data]).exit_code == 0
    synthesized = CliRunner().invoke(app, ["synthesize", *data])
    assert synthesized.exit_code == 0, synthesized.output
    assert " ".join(synthesized.output.split()).count("continuing with the offline extractor") == 1
