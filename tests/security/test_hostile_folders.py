"""S18: ``cns run`` on a hostile folder (rows S18[…] of docs/reliability.md).

Before: a FIFO named ``.cnsignore`` hung ``cns run`` with no output (reading a FIFO blocks until a
writer appears), and a ``.cnsignore`` that is a directory aborted the run with a traceback; a FIFO
among the documents hung it the same way; symbolic-link loops, dangling links and devices were
neither read nor listed; a link to ``/etc/passwd`` was followed and ingested; a file name that is
not valid UTF-8 crashed the report writer (``UnicodeEncodeError``), leaving no outputs and a
stray ``report.html.tmp``; Rich markup in a file name was interpreted. Now the folder walk reads regular files only, follows links only
inside the given folders (``--follow-symlinks`` to go further), lists every skipped entry with
its reason, and the run finishes.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from html import escape as html_escape
from pathlib import Path

import pytest

from cns.ingestion.loaders.dispatch import load_path
from tests.reliability.reliability_support import record
from tests.services.run_corpus import write_corpus

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]
TEXT = "Coffee improves focus because caffeine blocks adenosine receptors."
UTF8_TEXT = (
    "Tea calms the mind because theanine relaxes the brain.\n\nWe argue that tea is better than coffee."
)
#: the file a link leads to outside the folder (the test does not read /etc/passwd itself)
SECRET = Path("/etc/passwd")


def test_fifo_or_directory_cnsignore_does_not_hang_or_abort(tmp_path: Path) -> None:
    fifo_dir, dir_dir = tmp_path / "fifo", tmp_path / "dir"
    for folder in (fifo_dir, dir_dir):
        folder.mkdir()
        (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    os.mkfifo(fifo_dir / ".cnsignore")
    (dir_dir / ".cnsignore").mkdir()
    loaded = {name: load_path(folder) for name, folder in (("FIFO", fifo_dir), ("directory", dir_dir))}
    for name, result in loaded.items():
        assert [d.source.endswith("a.txt") for d in result.documents] == [True], (name, result)
    record(
        "S18[.cnsignore]",
        "cns run's loader on a folder whose .cnsignore is a FIFO, and on one where it is a directory",
        "both finish within the 30 s test limit, a.txt loaded, the ignore file logged as unusable "
        "(before: FIFO hung forever, directory aborted the run with a traceback)",
        lost=0,
        duplicated=0,
    )


def _hostile_folder(root: Path) -> dict[str, str]:
    """A folder with every kind of entry `cns run` must not read; returns entry name -> expected reason."""
    corpus = write_corpus(root)
    expected = {"empty.txt": "empty file"}
    os.mkfifo(corpus / "fifo.txt")
    expected["fifo.txt"] = "not a regular file (FIFO (named pipe)); never read"
    cwd = os.getcwd()
    os.chdir(corpus)  # a relative name: socket paths are limited to ~100 bytes
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind("socket.txt")
    finally:
        os.chdir(cwd)
    expected["socket.txt"] = "not a regular file (socket); never read"
    try:
        os.mknod(corpus / "device.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
        expected["device.txt"] = "not a regular file (character device); never read"
    except PermissionError:
        pass  # no CAP_MKNOD here; the other kinds still cover the check
    (corpus / "loop-a.txt").symlink_to("loop-b.txt")
    (corpus / "loop-b.txt").symlink_to("loop-a.txt")
    expected["loop-a.txt"] = expected["loop-b.txt"] = "symbolic link loop"
    (corpus / "dangling.txt").symlink_to("missing.txt")
    expected["dangling.txt"] = "dangling symbolic link (its target missing.txt does not exist)"
    (corpus / "passwd.txt").symlink_to(SECRET)
    expected["passwd.txt"] = f"symbolic link to {SECRET.resolve()}, outside the given folders: not followed"
    (corpus / "sub").mkdir()
    (corpus / "sub" / "up").symlink_to("..")
    expected["up"] = "symbolic link to a folder inside the given folders: its files are read there"
    (corpus / "inside.txt").symlink_to("waves.txt")  # inside the folder: followed (a duplicate)
    (corpus / os.fsdecode(b"caf\xe9-notes.txt")).write_text(UTF8_TEXT, encoding="utf-8")
    (corpus / "[bold red]markup[blink].txt").write_text("", encoding="utf-8")  # a name Rich must not parse
    expected["[bold red]markup[blink].txt"] = "empty file"
    return expected


def test_cns_run_on_a_hostile_folder_finishes_and_lists_every_skipped_entry(tmp_path: Path) -> None:
    corpus, out = tmp_path / "docs", tmp_path / "out"
    expected = _hostile_folder(corpus)
    # wide console: Rich folds a line longer than the terminal inside a long path
    env = {
        **os.environ,
        "CNS_MODELS__EMBEDDING_BACKEND": "fake",
        "CNS_MODELS__NLI_BACKEND": "fake",
        "COLUMNS": "2000",
    }
    argv = [
        sys.executable,
        "-m",
        "cns",
        "run",
        str(corpus),
        "--out",
        str(out),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    start = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, timeout=240, check=False)
    seconds = time.monotonic() - start
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["graphs", "pairs.jsonl", "report.html", "snos.jsonl"]
    html = (out / "report.html").read_text(encoding="utf-8")
    snos = [json.loads(line) for line in (out / "snos.jsonl").read_text(encoding="utf-8").splitlines()]
    for name, reason in expected.items():
        shown = f"{name}: {reason}"
        assert shown in " ".join(stderr.split()), (shown, stderr[-3000:])
        assert html_escape(reason, quote=False) in html, reason
    assert "root:x:0:" not in json.dumps(snos)  # /etc/passwd was not read
    sources = {str(s["metadata"].get("source")) for s in snos}
    assert any(s.endswith("caf\\xe9-notes.txt") for s in sources), sources  # the non-UTF-8 name, ingested
    # --follow-symlinks: the link out of the folder is followed (here to a harmless text file)
    followed = subprocess.run(
        [*argv, "--follow-symlinks"], env=env, capture_output=True, timeout=240, check=False
    )
    assert followed.returncode == 0
    assert "passwd.txt: symbolic link" not in " ".join(followed.stderr.decode("utf-8", "replace").split())
    record(
        "S18[folder]",
        "cns run on a folder holding a FIFO, a socket, a character device, a symbolic-link loop, a dangling "
        "link, a link to a file outside it, a link to its parent, a name that is not UTF-8 and one full of "
        "Rich markup",
        f"exit 0 after {seconds:.1f} s with report.html, snos.jsonl, pairs.jsonl and no .tmp file; "
        f"{len(expected)} entries listed as skipped with their reason (kind, loop, missing target, "
        "'outside the given folders', a link back to its parent not entered); the non-UTF-8 name ingested as caf\\xe9-notes.txt; "
        "the outside file read only with --follow-symlinks (before, same folder: exit 1 with "
        "UnicodeEncodeError from the report writer and an empty report.html.tmp left as the only output; "
        "FIFO, socket, device, loops and dangling links silently left out; the link to /etc/passwd "
        "followed; the non-UTF-8 name skipped as unstorable; the Rich markup in a name swallowed)",
        lost=0,
        duplicated=0,
    )
