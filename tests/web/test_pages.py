"""Every page renders from a real store (fake models), shows the stored numbers, and escapes documents."""

from __future__ import annotations

import re
from pathlib import Path

from cns.services.run import report_thresholds
from cns.synthesis.view import is_synthesis
from cns.web.state import WebState
from tests.web.web_helpers import HOSTILE_NAME, SCRIPT, web_client, web_config


def _hostile(store):  # type: ignore[no-untyped-def]
    return next(s for s in store.list() if "hostile" in str(s.metadata.get("source", "")))


def test_overview_shows_counts_histograms_scatter_and_thresholds(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        page = client.get("/")
        assert page.status_code == 200
        counts = store.counts()
        assert f'<b id="count-documents">{counts["documents"]}</b>' in page.text
        assert f'<b id="count-pairs">{counts["pairs"]}</b>' in page.text
        assert counts["pairs"] >= 1
        assert page.text.count('class="plot"') == 5  # trust, three critics, the scatter
        assert f"(n={len(store.list())})" in page.text  # the trust histogram counts every narrative
        th = report_thresholds(web_config(data_dir))
        assert f"threshold chirality = {th['chirality']:.2f}" in page.text
        assert page.text.count('<circle class="dot"') == counts["pairs"]
        assert "content-security-policy" in page.headers


def test_narratives_list_filters_by_file_name_status_trust_and_pages(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        everything = client.get("/ui/narratives")
        assert f"{len(store.list())} narratives" in everything.text
        drift = client.get("/ui/narratives", params={"q": "DRIFT"})
        assert "1 narrative<" in drift.text and "drift.md" in drift.text and "waves.txt" not in drift.text
        assert "0 narratives" in client.get("/ui/narratives", params={"status": "archived"}).text
        high = max(s.trust_score or 0 for s in store.list())
        top = client.get("/ui/narratives", params={"min_trust": round(high - 1e-4, 4)})
        assert "1 narrative<" in top.text
        syntheses = client.get("/ui/narratives", params={"kind": "syntheses"})
        assert f"{sum(is_synthesis(s) for s in store.list())} narrative" in syntheses.text
        assert "0 narratives" in client.get("/ui/narratives", params={"since": "2999-01-01"}).text
        assert client.get("/ui/narratives", params={"status": "bogus"}).status_code == 422


def test_narrative_page_has_hypothesis_graph_spans_and_critics_in_words(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        sno = next(s for s in store.list() if str(s.metadata.get("source", "")).endswith("drift.md"))
        page = client.get(f"/ui/narratives/{sno.sno_id[:10]}")  # a unique prefix is enough
        assert page.status_code == 200
        assert sno.central_hypothesis.replace("'", "&#39;") in page.text
        assert '<div class="graph" id="graph"><svg' in page.text
        for claim in sno.claims():
            start, end = claim.metadata["span"]
            assert f'id="span-{start}-{end}"' in page.text  # highlighted at its place
        results = sno.evaluation["critic_results"]
        for name, result in results.items():
            assert f'id="critic-{name}"' in page.text
            assert f"{name}: {result['score']:.2f}" in page.text
        assert "raised the score" in page.text or "lowered the score" in page.text
        assert f"Why trust is {sno.trust_score:.3f}" in page.text


def _document_div(html: str) -> str:
    start = html.index('<div class="document" id="document-text">') + len(
        '<div class="document" id="document-text">'
    )
    return html[start : html.index("</div>", start)]


def test_the_narrative_page_highlights_the_spans_inside_the_whole_document(data_dir: Path) -> None:
    from html import unescape

    with web_client(data_dir) as (client, store, _):
        sno = next(s for s in store.list() if str(s.metadata.get("source", "")).endswith("drift.md"))
        text = store.documents.document_text(sno.metadata["document_id"])
        page = client.get(f"/ui/narratives/{sno.sno_id}").text
    assert text is not None and text.startswith("Continents drift")  # the parsed text the spans point into
    shown = _document_div(page)
    assert 'id="document-whole"' in page and "characters…]" not in shown
    assert unescape(re.sub(r"<[^>]+>", "", shown)) == text  # every character, once, in order
    marks = re.findall(r'<mark id="span-(\d+)-(\d+)" title="[^"]*">([^<]*)</mark>', shown)
    assert len(marks) >= 3
    for start, end, inner in marks:
        assert unescape(inner) == text[int(start) : int(end)]  # cut out of the text by its offsets
    hypothesis = sno.metadata["hypothesis_span"]
    assert (str(hypothesis[0]), str(hypothesis[1])) in {(s, e) for s, e, _ in marks}


def test_a_document_stored_without_its_text_keeps_the_spans_only_view(data_dir: Path) -> None:
    from sqlalchemy import text as sql

    with web_client(data_dir) as (client, store, _):
        sno = next(s for s in store.list() if str(s.metadata.get("source", "")).endswith("drift.md"))
        with store.engine.begin() as conn:  # as a row written before texts were kept
            conn.execute(sql("UPDATE documents SET text = NULL"))
        page = client.get(f"/ui/narratives/{sno.sno_id}").text
    shown = _document_div(page)
    assert 'id="document-spans"' in page and 'id="document-whole"' not in page
    assert "characters…]" in shown and "Continents drift\n" not in shown
    for claim in sno.claims():
        start, end = claim.metadata["span"]
        assert f'id="span-{start}-{end}"' in shown


def test_synthesis_page_shows_parents_sections_provenance_and_acceptance(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        synthesis = next(s for s in store.list() if is_synthesis(s))
        page = client.get(f"/ui/narratives/{synthesis.sno_id}")
        assert page.status_code == 200
        assert 'id="acceptance">accepted<' in page.text
        for parent in synthesis.metadata["parent_ids"]:
            assert f'href="/ui/narratives/{parent}"' in page.text
        assert "Common ground" in page.text and 'id="provenance"' in page.text
        assert re.search(r'class="span-link" href="/ui/narratives/[0-9a-f]+#span-\d+-\d+"', page.text)


def test_pairs_list_and_pair_page_side_by_side(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        pairs = store.list_pairs()
        listing = client.get("/ui/pairs")
        assert f"{len(pairs)} pair{'' if len(pairs) == 1 else 's'}<" in listing.text
        for pair in pairs:
            assert f'href="/ui/pairs/{pair.pair_id}"' in listing.text
            assert f"{pair.chirality:.3f}" in listing.text
        assert 'id="near-misses-unavailable"' in listing.text  # no models in this web process
        pair = pairs[0]
        page = client.get(f"/ui/pairs/{pair.pair_id[:8]}")
        assert page.status_code == 200
        assert 'id="side-A"' in page.text and 'id="side-B"' in page.text
        assert 'id="conflicts"' in page.text and 'id="synthesize-now"' in page.text
        assert 'class="synthesis-link"' in page.text  # the corpus run synthesized every pair
        assert client.get("/ui/pairs/ffffffffffff").status_code == 404


def test_near_misses_are_listed_with_the_rule_that_stopped_them(data_dir: Path) -> None:
    from cns.services.runtime import build_runtime

    with build_runtime(web_config(data_dir), "cli") as rt:
        state = WebState(manager=rt.manager)
        with web_client(data_dir, state=state) as (client, _, _):
            first = client.get("/ui/pairs")  # the search starts in the background
            assert 'id="near-misses-pending"' in first.text and 'http-equiv="refresh"' in first.text
            assert state.wait_judged(60)
            page = client.get("/ui/pairs")
            assert 'id="near-misses"' in page.text and 'http-equiv="refresh"' not in page.text
            assert "opposition <span" in page.text
            assert re.search(r"opposition \d\.\d{3} is under \d\.\d{3}", page.text)


def test_syntheses_and_upload_pages(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        page = client.get("/ui/syntheses")
        attempts = [a for p in store.list_pairs() for a in store.list_attempts(p.pair_id)]
        assert f"{len(attempts)} attempt" in page.text
        assert page.text.count('class="outcome-accepted"') == sum(a.accepted is True for a in attempts)
        upload = client.get("/ui/upload")
        assert 'id="text-form"' in upload.text and 'id="file-form"' in upload.text


def test_a_document_with_markup_is_shown_as_text_on_every_page(data_dir: Path) -> None:
    with web_client(data_dir) as (client, store, _):
        sno = _hostile(store)
        # the hypothesis is cleaned of tags, but the evidence keeps the sentence as it came
        assert any(SCRIPT in item.content for item in sno.evidence_set)
        pages = [f"/ui/narratives/{sno.sno_id}", "/ui/narratives", "/"]
        pages += [f"/ui/pairs/{p.pair_id}" for p in store.list_pairs() if sno.sno_id in (p.sno_a, p.sno_b)]
        for url in pages:
            html = client.get(url).text
            assert SCRIPT not in html and "<b>never</b>" not in html and "<img src=x" not in html, url
            assert "<em>name" not in html, url
        html = client.get(f"/ui/narratives/{sno.sno_id}").text
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
        assert HOSTILE_NAME.replace("<", "&lt;").replace(">", "&gt;") in html


def test_unknown_and_ambiguous_ids_answer_a_404_page(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _, _):
        page = client.get("/ui/narratives/nothing-like-this")
        assert page.status_code == 404 and 'id="error-message"' in page.text
        assert client.get("/ui/narratives/%00").status_code == 404


def test_api_docs_work_offline_from_local_assets(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _, _):
        for url, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
            html = client.get(url).text
            assert f'src="/static/apidocs/{asset}"' in html
            assert "cdn" not in html.lower() and "fonts.googleapis" not in html
            script = client.get(f"/static/apidocs/{asset}")
            assert script.status_code == 200 and len(script.content) > 500_000
        assert client.get("/ui/static/app.js").status_code == 200
        assert client.get("/ui/static/style.css").status_code == 200


def test_job_status_for_the_live_progress(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _store, publisher):
        csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get("/ui/upload").text)
        assert csrf
        done = client.post(
            "/ui/upload/text",
            data={"source": "note.txt", "text": "We argue that sand moves."},
            headers={"X-CSRF-Token": csrf.group(1)},
        )
        assert done.status_code == 202, done.text
        job_id = done.json()["job_id"]
        assert publisher.sent == [("cns.process_ingestion", (job_id,))]  # the API's ingest job
        status = client.get(f"/ui/jobs/{job_id}").json()
        assert status["state"] == "PENDING" and status["kind"] == "ingest"
        assert client.get("/ui/jobs/unknown").status_code == 404


def test_near_misses_wait_for_no_running_job(data_dir: Path) -> None:
    from cns.services.runtime import build_runtime

    with build_runtime(web_config(data_dir), "cli") as rt:
        state = WebState(manager=rt.manager)
        with web_client(data_dir, state=state) as (client, _, _):
            with state.model_lock:  # a job holds the models: the page answers at once all the same
                assert 'id="near-misses-pending"' in client.get("/ui/pairs").text
                assert not state.wait_judged(0.2)
            assert state.wait_judged(60)
            assert 'id="near-misses"' in client.get("/ui/pairs").text


def test_narratives_are_paged_newest_first(data_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cns.web import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    with web_client(data_dir) as (client, store, _):
        newest = sorted(store.list(), key=lambda s: (s.created_at, s.sno_id), reverse=True)
        first = client.get("/ui/narratives")
        assert f"page 1 of {(len(newest) + 1) // 2}" in first.text and 'id="next-page"' in first.text
        rows = re.findall(r'<a href="/ui/narratives/([0-9a-f]+)">', first.text)
        assert rows == [s.sno_id for s in newest[:2]]
        second = client.get("/ui/narratives", params={"page": 2})
        assert re.findall(r'<a href="/ui/narratives/([0-9a-f]+)">', second.text) == [
            s.sno_id for s in newest[2:4]
        ]
        beyond = client.get("/ui/narratives", params={"page": 999})  # the last page instead
        assert f"page {(len(newest) + 1) // 2} of" in beyond.text
