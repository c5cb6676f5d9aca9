"""The Ask page: the search service's result as a page — narratives, disagreements, claims, answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cns.errors import ModelError
from cns.services.search import MAX_QUESTION_CHARS
from cns.testing.fakes import ScriptedLLM
from cns.web.ask import answer_parts
from tests.web.web_helpers import SCRIPT, web_client

DRIFT = "Do continents drift across the mantle?"
#: every claim is close enough, so the answer tests have claims to cite
ALL_CLAIMS = {"min_similarity": 0.0}


def _main(html: str) -> str:
    return html[html.index("<main>") : html.index("</main>")]


def _files(html: str, table: str) -> list[str]:
    """The file names linked in the first column of one of the page's tables, in order."""
    body = html[html.index(f'id="{table}"') :]
    body = body[: body.index("</table>")]
    return re.findall(r'<tr><td><a href="/ui/narratives/[0-9a-f]+">([^<]+)</a>', body)


def _with_llm(monkeypatch: pytest.MonkeyPatch, llm: Any) -> None:
    """The configured LLM of the API's runtime is ``llm`` (loaded on first use, as from config)."""
    monkeypatch.setattr("cns.models.load_llm", lambda config: llm)


def test_the_ask_page_shows_narratives_and_where_the_corpus_disagrees(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        [pair] = store.list_pairs()
        overview = client.get("/")
        assert '<a href="/ui/ask" id="nav-ask">Ask</a>' in overview.text  # in the site navigation
        page = client.get("/ui/ask", params={"q": DRIFT})
    assert page.status_code == 200
    html = page.text
    assert f'value="{DRIFT}"' in html  # the question stays in the box
    assert _files(html, "ask-narratives") == ["fixed.txt", "drift.md"]
    section = html[html.index('id="disagreements"') : html.index('id="ask-narratives"')]
    first = section[section.index('id="disagreement-1"') :]
    assert f'href="/ui/pairs/{pair.pair_id}"' in first  # the recorded pair, linked
    assert "the pair search recorded these two as a chiral pair" in first
    sides = re.findall(
        r'<div class="side side-[ab]"><h3><a href="/ui/narratives/([0-9a-f]+)">([^<]+)</a>', first
    )
    assert {sno for sno, _ in sides[:2]} == {pair.sno_a, pair.sno_b}
    assert sorted(name for _, name in sides[:2]) == ["drift.md", "fixed.txt"]
    for sno_id in (pair.sno_a, pair.sno_b):  # each side's hypothesis next to its file
        assert store.get(sno_id).central_hypothesis.replace("'", "&#39;") in first
    assert 'id="answer-note"' in html and "no answer: no LLM is configured (llm.backend: none)" in html


def test_a_question_without_a_recorded_pair_still_shows_the_opposed_narratives(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _, _):
        html = client.get("/ui/ask", params={"q": "Is light a wave?"}).text
    first = html[html.index('id="disagreement-1"') :]
    assert "not a recorded pair; their hypotheses oppose each other" in first
    assert re.findall(r'class="side side-[ab]"><h3><a href="[^"]+">([^<]+)<', first)[:2] == [
        "particles.txt",
        "waves.txt",
    ]


def test_no_question_an_empty_one_a_long_one_and_no_hits_each_say_so(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _, _):
        form = client.get("/ui/ask")
        blank = client.get("/ui/ask", params={"q": "   "})
        long = client.get("/ui/ask", params={"q": "x" * (MAX_QUESTION_CHARS + 1)})
        nothing = client.get("/ui/ask", params={"q": "zebra quantum banana"})
    assert form.status_code == 200 and 'id="ask-form"' in form.text and 'id="ask-hint"' in form.text
    assert 'id="answer"' not in form.text
    assert blank.status_code == 400
    assert 'id="ask-problem">The question is empty: type a question in words' in blank.text
    assert long.status_code == 422
    assert nothing.status_code == 200
    assert "Nothing in the corpus is close enough in meaning to “zebra quantum banana”" in nothing.text
    assert 'id="ask-narratives"' not in nothing.text and 'id="disagreements"' not in nothing.text


def test_the_answer_cites_found_claims_and_links_them(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = json.dumps({"answer": "The corpus is split [1][2]. One side says <b>no</b> [2]."})
    llm = ScriptedLLM([reply])
    _with_llm(monkeypatch, llm)
    with web_client(data_dir, search=ALL_CLAIMS) as (client, _, _):
        html = client.get("/ui/ask", params={"q": DRIFT}).text
    assert len(llm.calls) == 1
    answer = html[html.index('id="answer-text"') :]
    answer = answer[: answer.index("</blockquote>")]
    assert re.findall(r'<a class="cite" href="#claim-(\d+)">(\[\d+\])</a>', answer) == [
        ("1", "[1]"),
        ("2", "[2]"),
        ("2", "[2]"),
    ]
    assert "&lt;b&gt;no&lt;/b&gt;" in answer and "<b>no</b>" not in answer  # the LLM's text is text
    assert 'id="claim-1"' in html and 'id="claim-2"' in html  # the targets of the links
    assert "written by fake:scripted-llm" in html and "it cites [1], [2]" in html


def test_an_answer_citing_a_claim_not_found_is_withheld(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_llm(monkeypatch, ScriptedLLM([json.dumps({"answer": "Yes, they drift [99]."})]))
    with web_client(data_dir, search=ALL_CLAIMS) as (client, _, _):
        html = client.get("/ui/ask", params={"q": DRIFT}).text
    assert 'id="answer-text"' not in html and "[99]" in html
    assert re.search(r'class="notice" id="answer-note">answer withheld: the answer cites \[99\]', html)


def test_an_unavailable_llm_gives_the_material_and_says_why(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_llm(monkeypatch, ScriptedLLM([ModelError("connection refused by 127.0.0.1:9")]))
    with web_client(data_dir, search=ALL_CLAIMS) as (client, _, _):
        page = client.get("/ui/ask", params={"q": DRIFT})
    assert page.status_code == 200
    assert "no answer: the LLM could not be used (connection refused by 127.0.0.1:9)" in page.text
    assert _files(page.text, "ask-narratives")[:2] == ["fixed.txt", "drift.md"]


def test_documents_and_questions_are_shown_as_text(data_dir: Path) -> None:
    question = "Do tides <script>alert(1)</script> move sand on beaches?"
    with web_client(data_dir, search=ALL_CLAIMS) as (client, _, _):
        html = client.get("/ui/ask", params={"q": question}).text
    main = _main(html)
    assert "hostile&lt;em&gt;name.txt" in main  # the hostile document was found, its name escaped
    assert "<script>" not in main and SCRIPT not in main and "<em>name" not in main
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in main  # the question too


def test_answer_parts_link_only_numbers_that_were_given() -> None:
    parts = answer_parts("A [1], B [3] and C [1, 2].", {1, 2})
    assert [(p.text, p.numbers) for p in parts] == [
        ("A ", ()),
        ("[1]", (1,)),
        (", B [3] and C ", ()),
        ("[1, 2]", (1, 2)),
        (".", ()),
    ]
