"""S15: what the API accepts, the worker can finish (rows S15[…] of docs/reliability.md).

Before: a 1,000,000-character document (the old ``service.max_text_chars``) was accepted and kept
a worker busy until the soft time limit (sentence segmentation grew with the square of a
paragraph's length: 56 s for 250,000 characters in one paragraph, 260 s for 500,000); a text of punctuation, symbols or emoji was accepted and then failed in the
worker; Chinese and Japanese documents gave an SNO with a hypothesis and no claims, or failed
("no sentence that could state a hypothesis") when they used full-width or half-width full stops.

Now the longest accepted text of the worst shape (one paragraph) is ingested by the job in a few
seconds, a text with no word is a 422 ``no_words``, any text with a word is processed, and CJK
documents are split at their sentence ends and get claims and discourse edges.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cns.config import CNSConfig
from cns.services.jobs import run_job
from cns.store.sql import JobState, SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import api_client, config_for
from tests.ingestion.ingest_helpers import DRIFT_TEXT, OTHER_TEXT
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

ZH = """咖啡与健康

我们认为，适量饮用咖啡有益于健康。研究表明，咖啡因可以提高注意力，因为它阻断了大脑中的腺苷受体。此外，多项研究显示，每天饮用咖啡的人患二型糖尿病的风险较低。然而，过量饮用咖啡会导致失眠和焦虑！因此，每天饮用两到三杯咖啡是最合适的。

结论

综上所述，适量饮用咖啡对大多数成年人是有益的。"""
JA = """コーヒーと健康

私たちは、適量のコーヒーは健康に良いと考える。カフェインはアデノシン受容体を遮断するため、集中力を高める。さらに、多くの研究によって、コーヒーを飲む人は糖尿病のリスクが低いことが示されている。しかし、飲みすぎると不眠や不安の原因になる！したがって、一日に二、三杯が最適である。

まとめ

以上のことから、適量のコーヒーはほとんどの大人にとって有益であると言える。"""
#: Japanese with full-width full stops (．) and a Chinese line without any: both failed before
JA_FULLWIDTH = "コーヒーは健康に良い．カフェインは集中力を高める．しかし飲みすぎは不眠の原因になる．"
ZH_NO_STOP = "咖啡因可以提高注意力因为它阻断了腺苷受体"
NO_WORDS = {
    "punctuation": "!!! ??? ... --- ;;; ,,,",
    "emoji": "🙂🙂🙂 🎉🎉 👍",
    "symbols": "$$$ %%% ### @@@ ∑∫∂ ≤≥ ±",
    "dashes and quotes": "— – ‒ … « » “ ” ‘ ’",
}


def _manager(tmp_path: Path, store: SQLStore, **overrides: Any) -> CNSWorkflowManager:
    config = config_for(tmp_path, **overrides)
    return CNSWorkflowManager(config, store=store, embedder=HashEmbedder(384), nli=RuleNLI())


def _run(manager: CNSWorkflowManager, store: SQLStore, job_id: str) -> Any:
    return run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)


def one_paragraph(chars: int) -> str:
    """``chars`` characters of prose in one paragraph (no blank line), every sentence numbered."""
    sentences = [
        s.strip() for s in (DRIFT_TEXT + " " + OTHER_TEXT).replace("\n", " ").split(". ") if s.strip()
    ]
    parts: list[str] = []
    total, n = 0, 0
    while total < chars:
        part = f"{sentences[n % len(sentences)].rstrip('.')} ({n})."
        parts.append(part)
        total += len(part) + 1
        n += 1
    return " ".join(parts)[: chars - 1] + "."


def test_the_longest_accepted_text_is_ingested_well_within_the_soft_time_limit(tmp_path: Path) -> None:
    defaults = CNSConfig()
    limit, soft = defaults.service.max_text_chars, defaults.celery.task_soft_time_limit_seconds
    text = one_paragraph(limit)
    assert len(text) == limit and "\n" not in text
    with api_client(tmp_path) as (client, store, publisher):
        over = client.post("/ingest", json={"source": "too-long.txt", "text": text + "x"})
        assert over.status_code == 422 and over.json()["error"]["details"][0]["type"] == "string_too_long"
        accepted = client.post("/ingest", json={"source": "long.txt", "text": text})
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        manager = _manager(tmp_path, store)
        start = time.perf_counter()
        done = _run(manager, store, job_id)
        seconds = time.perf_counter() - start
        assert done.state is JobState.SUCCESS, done.error
        check = conservation(store, [job_id], [m[1][0] for m in publisher.sent])
    assert seconds < soft / 5, seconds
    record(
        "S15[long]",
        f"POST /ingest with service.max_text_chars = {limit:,} characters in one paragraph (the worst "
        "shape: no blank line), then the ingest job body (fake models); and one character more",
        f"202, job SUCCESS in {seconds:.1f} s ({100 * seconds / soft:.0f} % of the {soft} s soft time limit); "
        "one more character → 422 string_too_long (before: the limit was 1,000,000, and segmenting one "
        "paragraph grew with the square of its length: 56 s at 250,000 and 260 s at 500,000 characters, "
        "so such a document ran into the soft time limit)",
        lost=check.lost,
        duplicated=check.duplicated,
    )


def test_text_without_any_word_is_refused_and_any_text_with_a_word_is_processed(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        for name, text in NO_WORDS.items():
            one = client.post("/ingest", json={"source": name, "text": text})
            assert one.status_code == 422, (name, one.text)
            error = one.json()["error"]
            assert error["details"][0] == {
                "loc": ["body", "text"],
                "msg": "no word in any script",
                "type": "no_words",
            }
            assert "no words" in error["message"]
            batch = client.post(
                "/ingest/batch",
                json={"documents": [{"source": "ok", "text": "Fine words."}, {"source": name, "text": text}]},
            )
            assert batch.status_code == 422
            assert batch.json()["error"]["details"][0]["loc"] == ["body", "documents", 1, "text"]
        assert publisher.sent == [] and store.list_jobs() == []
        # the other side of the door: a word in any script, however little else, is processed
        manager = _manager(tmp_path, store)
        accepted = []
        for text in (
            "Coffee",
            "12345",
            "Only A Heading\n\nAnother Heading",
            "กาแฟดีต่อสุขภาพ",
            "🙂 ok 🙂",
            ZH_NO_STOP,
        ):
            answer = client.post("/ingest", json={"source": "short", "text": text})
            assert answer.status_code == 202, (text, answer.text)
            accepted.append(answer.json()["job_id"])
            assert _run(manager, store, accepted[-1]).state is JobState.SUCCESS, text
        check = conservation(store, accepted, [m[1][0] for m in publisher.sent])
    record(
        "S15[no words]",
        "POST /ingest and /ingest/batch with text of only punctuation, emoji, symbols or dashes; then short "
        "texts with a word (one word, digits, two headings, Thai, emoji + word, Chinese without a full stop)",
        f"422 no_words naming the text, nothing stored or enqueued; the {len(accepted)} texts with a word: "
        "202 and job SUCCESS (before: 202, then the job failed 'no sentence that could state a hypothesis')",
        lost=check.lost,
        duplicated=check.duplicated,
    )


_ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=_ANY_TEXT)
def test_every_text_the_api_accepts_is_ingested_by_the_worker(text: str, tmp_path_factory: Any) -> None:
    tmp_path = tmp_path_factory.mktemp("accepts")
    with api_client(tmp_path) as (client, store, _):
        answer = client.post("/ingest", json={"source": "any", "text": text})
        assert answer.status_code in (202, 400, 422), answer.text
        if answer.status_code == 202:
            done = _run(_manager(tmp_path, store), store, answer.json()["job_id"])
            assert done.state is JobState.SUCCESS, (text, done.error)


def test_chinese_and_japanese_documents_are_segmented_and_ingested(tmp_path: Path) -> None:
    results = {}
    with api_client(tmp_path) as (client, store, _):
        manager = _manager(tmp_path, store)
        for name, text in (
            ("zh", ZH),
            ("ja", JA),
            ("ja-fullwidth", JA_FULLWIDTH),
            ("zh-no-stop", ZH_NO_STOP),
        ):
            answer = client.post("/ingest", json={"source": name, "text": text})
            assert answer.status_code == 202, answer.text
            done = _run(manager, store, answer.json()["job_id"])
            assert done.state is JobState.SUCCESS, (name, done.error)
            results[name] = store.get(str(done.result["sno_id"]))
        check = conservation(store, [], [])
    zh, ja = results["zh"], results["ja"]
    assert zh.central_hypothesis == "我们认为，适量饮用咖啡有益于健康。"
    assert ja.central_hypothesis in {
        "私たちは、適量のコーヒーは健康に良いと考える。",
        "以上のことから、適量のコーヒーはほとんどの大人にとって有益であると言える。",
    }
    for sno, counter in (
        (zh, "然而，过量饮用咖啡会导致失眠和焦虑！"),
        (ja, "しかし、飲みすぎると不眠や不安の原因になる！"),
    ):
        assert sno.metadata["extraction"]["sentences"] == 8  # title, 5 (zh) or 5 (ja) sentences, heading, 1
        claims = {c.content: c for c in sno.claims() if c.claim_id != "root"}
        assert len(claims) >= 3, list(claims)
        assert claims[counter].claim_type == "counterpoint"
        bases = {e.metadata.get("basis") for e in sno.edges()}
        assert {b for b in bases if str(b).startswith("discourse:")}, bases
    assert len(list(results["ja-fullwidth"].claims())) >= 2  # three sentences, not one "heading"
    record(
        "S15[CJK]",
        "POST /ingest with a Chinese and a Japanese argument (。！ sentence ends, 然而/しかし, 因此/したがって), "
        "a Japanese text with full-width full stops (．) and a Chinese line with no full stop; the job body",
        f"all 4 SUCCESS; zh/ja: 8 sentences each, the thesis sentence as hypothesis, "
        f"{len(list(zh.claims())) - 1} and {len(list(ja.claims())) - 1} claims with counterpoints and "
        "discourse edges (before: hypothesis only, no claims; the full-width and the unpunctuated texts failed "
        "'no sentence that could state a hypothesis')",
        lost=check.lost,
        duplicated=check.duplicated,
    )
