"""``GET /search?q=``: the search service behind a thin read route (fake models from the config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cns.services.apikeys import create_api_key
from cns.services.search import MAX_QUESTION_CHARS
from cns.store.sql import SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import api_client, config_for
from tests.api.test_api_ingest import assert_error_shape
from tests.services.run_corpus import write_corpus

QUESTION = "Do continents drift across the mantle?"
SEARCH = {"min_similarity": 0.3}


def ingest(tmp_path: Path, store: SQLStore) -> None:
    """The run corpus, ingested and paired into the API's store as the workers would."""
    manager = CNSWorkflowManager(
        config_for(tmp_path, search=SEARCH), store=store, embedder=HashEmbedder(384), nli=RuleNLI()
    )
    manager.ingest_paths([write_corpus(tmp_path / "docs")])
    manager.find_pairs()


def names(items: list[dict[str, Any]], key: str = "file") -> list[str]:
    return [Path(item[key]).name for item in items]


def test_search_returns_narratives_claims_pairs_and_no_answer_offline(tmp_path: Path) -> None:
    with api_client(tmp_path, search=SEARCH) as (client, store, _):
        ingest(tmp_path, store)
        response = client.get("/search", params={"q": QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["question"] == QUESTION
    assert names(body["narratives"]) == ["fixed.txt", "drift.md"]
    assert all(len(item["sno_id"]) == 32 and item["document_id"] for item in body["narratives"])
    [pair] = body["pairs"]
    assert pair["both_found"] and sorted(names([pair], "file_a") + names([pair], "file_b")) == [
        "drift.md",
        "fixed.txt",
    ]
    assert body["disagreements"][0]["pair_id"] == pair["pair_id"]
    assert body["answer"] is None and body["answer_note"].startswith("no answer: no LLM is configured")
    assert "embedding" not in response.text


def test_the_options_reach_the_service(tmp_path: Path) -> None:
    with api_client(tmp_path, search=SEARCH) as (client, store, _):
        ingest(tmp_path, store)
        body = client.get("/search", params={"q": QUESTION, "narratives": 1, "answer": "false"}).json()
    assert names(body["narratives"]) == ["fixed.txt"]
    assert body["answer_note"].startswith("no answer: not asked for")


def test_a_blank_question_is_a_400_and_an_overlong_one_a_422(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, _, _):
        blank = client.get("/search", params={"q": "   "})
        long = client.get("/search", params={"q": "x" * (MAX_QUESTION_CHARS + 1)})
        missing = client.get("/search")
    assert assert_error_shape(blank.json(), 400)["message"].startswith("the question is empty")
    assert long.status_code == 422 and missing.status_code == 422


def test_search_is_a_read_route_behind_the_read_key(tmp_path: Path) -> None:
    with api_client(tmp_path, profile="prod", auth={"enabled": True}) as (client, store, _):
        _, reader = create_api_key(store, name="dashboard", scope="read")
        denied = client.get("/search", params={"q": QUESTION})
        allowed = client.get("/search", params={"q": QUESTION}, headers={"X-API-Key": reader})
    assert denied.status_code == 401 and assert_error_shape(denied.json(), 401)["type"] == "unauthorized"
    assert allowed.status_code == 200 and allowed.json()["narratives"] == []  # an empty store


def test_the_route_is_documented(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, _, _):
        operation = client.get("/openapi.json").json()["paths"]["/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "narratives", "claims", "include_archived"}
    assert {"200", "400", "401", "422", "503"} <= set(operation["responses"])
