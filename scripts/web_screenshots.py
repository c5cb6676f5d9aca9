"""Screenshots of every page of the web interface, for docs/ui.md.

Usage (after ``make demo``, which leaves the demo corpus in ``out/data``)::

    .venv/bin/python scripts/web_screenshots.py --data-dir out/data --out docs/img/web

Serves ``cns ui``'s app over a *copy* of the store (taking screenshots changes nothing) on a free
local port, opens each page in Debian's headless Chromium through Playwright and saves one PNG
per page (the first screen of it, 1280 pixels wide). The pair, narrative and synthesis shown are
the first of their list; the Ask page answers ``--question`` (the first question loads the
embedder and the NLI model, so it is asked once before its screenshot).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import uvicorn
from playwright.sync_api import Page, sync_playwright

from cns.config import CNSConfig
from cns.services.lookup import short_id
from cns.synthesis.view import is_synthesis
from cns.web.local import local_app
from cns.web.state import NotReady

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shoot(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path))
    print(f"{path} ← {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/img/web"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--question", default="Do the continents move?", help="what the Ask page asks")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(shutil.copytree(args.data_dir, Path(tmp) / "data"))
        config = CNSConfig().model_copy(update={"data_dir": data})
        with local_app(config) as local:
            store = local.runtime.store
            snos = store.list()
            narrative = next(s for s in snos if not is_synthesis(s))
            synthesis = next((s for s in snos if is_synthesis(s)), None)
            pair = next(iter(store.list_pairs()), None)
            port = _port()
            server = uvicorn.Server(uvicorn.Config(local.app, host="127.0.0.1", port=port, log_config=None))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            base = f"http://127.0.0.1:{port}"
            state = local.app.state.web
            clock = time.perf_counter()
            try:  # the pairs page shows the near misses once the search judged the population
                state.judged(store)
            except NotReady:
                state.wait_judged(900)
            print(f"near misses judged in {time.perf_counter() - clock:.1f} s")
            pages = {
                "overview": "/",
                "narratives": "/ui/narratives",
                "narrative": f"/ui/narratives/{short_id(narrative.sno_id)}",
                "pairs": "/ui/pairs",
                "syntheses": "/ui/syntheses",
                "upload": "/ui/upload",
                "ask": "/ui/ask?" + urlencode({"q": args.question}),
            }
            if pair is not None:
                pages["pair"] = f"/ui/pairs/{short_id(pair.pair_id)}"
            if synthesis is not None:
                pages["synthesis"] = f"/ui/narratives/{short_id(synthesis.sno_id)}"
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.set_default_timeout(600_000)  # the first question loads the models
                    page.goto(base + pages["ask"])  # warm: the screenshot shows the answer, not the wait
                    for name, path in pages.items():
                        _shoot(page, base + path, args.out / f"{name}.png")
                    browser.close()
            finally:
                server.should_exit = True
                thread.join(10)


if __name__ == "__main__":
    main()
