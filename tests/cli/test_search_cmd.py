"""``cns search "…"``: on the local store and through ``--api``, Rich output escaped, ``--json``."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cns.cli import search_cmd
from cns.cli.main import app
from cns.services.apikeys import create_api_key
from tests.api.api_helpers import api_client
from tests.cli.test_api_client import ViaTestClient
from tests.services.run_corpus import write_corpus

runner = CliRunner()
QUESTION = "Do continents drift across the mantle?"
HOSTILE = (
    "Hostile drift\n\nBy E. Writer\n\nWe argue that continents drift across the mantle [bold red]because[/bold red] "
    "of [link=https://evil.example]plates[/link]. Therefore the mantle moves.\n"
)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory holding the run corpus (and a document full of Rich markup), paired."""
    for name, value in {
        "CNS_MODELS__EMBEDDING_BACKEND": "fake",
        "CNS_MODELS__NLI_BACKEND": "fake",
        "CNS_SEARCH__MIN_SIMILARITY": "0.3",
        "COLUMNS": "400",
    }.items():
        monkeypatch.setenv(name, value)
    folder = write_corpus(tmp_path / "docs")
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    target = tmp_path / "data"
    for command in (["ingest", str(folder)], ["pairs"]):
        done = runner.invoke(app, [*command, "--data-dir", str(target)])
        assert done.exit_code == 0, done.output
    return target


def test_json_on_the_local_store(data: Path) -> None:
    result = runner.invoke(app, ["search", QUESTION, "--data-dir", str(data), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    files = [Path(item["file"]).name for item in body["narratives"]]
    assert files[:2] == ["fixed.txt", "drift.md"] and "hostile.txt" in files
    assert body["answer"] is None and "embedding" not in result.stdout
    assert (data / "index" / "claims.faiss").is_file()  # saved for the next search


def test_rich_output_shows_documents_as_text(data: Path) -> None:
    result = runner.invoke(app, ["search", QUESTION, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Question: Do continents drift across the mantle?" in out
    assert "no answer: no LLM is configured (llm.backend: none)" in out
    assert "fixed.txt" in out and "drift.md" in out and "Where the corpus disagrees" in out
    assert "[bold red]because[/bold red]" in out  # markup from a document is printed, not obeyed
    assert "plates[/link]" in out and "[link=" in out  # (ingestion keeps the URL as a reference)


def test_a_blank_question_is_one_line_and_exit_code_1(data: Path) -> None:
    result = runner.invoke(app, ["search", "   ", "--data-dir", str(data)])
    assert result.exit_code == 1 and "error: the question is empty" in result.output


def test_through_the_api_with_a_read_key(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with api_client(data.parent / "api", profile="prod", auth={"enabled": True}, data_dir=data) as (
        client,
        store,
        _,
    ):
        assert store.url.endswith(str(data / "cns.sqlite3"))  # the store the local search read
        _, reader = create_api_key(store, name="reader", scope="read")
        monkeypatch.setattr(
            search_cmd, "fetch", functools.partial(search_cmd.fetch, transport=ViaTestClient(client))
        )
        local = runner.invoke(app, ["search", QUESTION, "--data-dir", str(data), "--json"])
        remote = runner.invoke(
            app, ["search", QUESTION, "--api", "http://testserver", "--api-key", reader, "--json"]
        )
        refused = runner.invoke(app, ["search", QUESTION, "--api", "http://testserver"])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == json.loads(local.stdout)  # the same service, either way
    assert refused.exit_code == 1 and "the service refused the API key (401" in refused.output


def test_an_unreachable_service_is_one_clear_line() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(search_cmd.ServiceError, match="cannot reach the service at http://127.0.0.1:9"):
        search_cmd.fetch("http://127.0.0.1:9", QUESTION, {}, transport=httpx.MockTransport(down))
