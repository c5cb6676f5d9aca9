"""The folder walk of ``cns run``: regular files only, links kept inside the folder, every skip listed."""

from __future__ import annotations

import os
from pathlib import Path

from cns.ingestion.loaders import load_path
from cns.ingestion.loaders.base import LoaderLimits, display_path
from cns.ingestion.loaders.walk import walk_folder

TEXT = "Coffee improves focus because caffeine blocks adenosine receptors."


def _reasons(root: Path, **kwargs: bool) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in walk_folder(root, **kwargs).skipped}


def test_links_inside_the_folder_are_followed_and_links_out_of_it_only_on_request(tmp_path: Path) -> None:
    outside, root = tmp_path / "outside", tmp_path / "root"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.txt").write_text("Outside the folder the caller named.", encoding="utf-8")
    (outside / "deep" / "more.txt").write_text(TEXT, encoding="utf-8")
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.txt").write_text(TEXT, encoding="utf-8")
    (root / "alias").symlink_to("real")  # a folder link inside: read from the folder itself
    (root / "a-link.txt").symlink_to(root / "real" / "a.txt")  # absolute, still inside: followed
    (root / "secret.txt").symlink_to(outside / "secret.txt")
    (root / "elsewhere").symlink_to(outside / "deep")
    default = walk_folder(root)
    assert [p.relative_to(root).as_posix() for p in default.files] == ["a-link.txt", "real/a.txt"]
    reasons = _reasons(root)
    assert set(reasons) == {"alias", "secret.txt", "elsewhere"}
    assert reasons["alias"] == "symbolic link to a folder inside the given folders: its files are read there"
    assert reasons["secret.txt"].startswith(
        f"symbolic link to {outside / 'secret.txt'}, outside the given folders"
    )
    assert reasons["secret.txt"].endswith("(pass --follow-symlinks to follow it)")
    followed = walk_folder(root, follow_symlinks=True)
    assert {p.relative_to(root).as_posix() for p in followed.files} >= {"secret.txt", "elsewhere/more.txt"}
    assert [s.path for s in followed.skipped] == [str(root / "alias")]
    loaded = load_path(root, limits=LoaderLimits(follow_symlinks=True))
    assert any(d.text.startswith("Outside the folder") for d in loaded.documents)


def test_hidden_entries_are_not_entered_and_links_back_up_do_not_loop(tmp_path: Path) -> None:
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "x.txt").write_text(TEXT, encoding="utf-8")
    os.mkfifo(tmp_path / ".hidden-fifo")  # hidden: never looked at, not even listed
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "doc.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "a" / "b" / "top").symlink_to("../..")
    walk = walk_folder(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in walk.files] == ["a/b/doc.txt"]
    assert _reasons(tmp_path) == {
        "top": "symbolic link to a folder inside the given folders: its files are read there"
    }
    # followed out of the folder, a link back into an ancestor is entered once, never in a loop
    (tmp_path / "a" / "b" / "top").unlink()
    (tmp_path / "outer" / "inner").mkdir(parents=True)
    (tmp_path / "outer" / "inner" / "x.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "outer" / "inner" / "again").symlink_to(tmp_path / "outer")
    inner = tmp_path / "outer" / "inner"
    looped = walk_folder(inner, follow_symlinks=True)
    assert [p.relative_to(inner).as_posix() for p in looped.files] == ["x.txt"]
    assert [(Path(s.path).relative_to(inner).as_posix(), s.reason) for s in looped.skipped] == [
        ("again/inner", "folder already read (a symbolic link leads back to it)")
    ]


def test_a_fifo_given_directly_is_skipped_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    loaded = load_path(fifo)  # opening it for a blocking read would wait for a writer forever
    assert (
        loaded.documents == []
        and loaded.skipped[0].reason == "not a regular file (FIFO (named pipe)); never read"
    )


def test_a_name_that_is_not_utf8_is_loaded_under_a_printable_name(tmp_path: Path) -> None:
    name = os.fsdecode(b"r\xe9sum\xe9.txt")
    (tmp_path / name).write_text(TEXT, encoding="utf-8")
    (tmp_path / os.fsdecode(b"empty-\xff.txt")).write_text("", encoding="utf-8")
    loaded = load_path(tmp_path)
    assert [Path(d.source).name for d in loaded.documents] == ["r\\xe9sum\\xe9.txt"]
    assert [(Path(s.path).name, s.reason) for s in loaded.skipped] == [
        ("empty-\\xff.txt", "empty file (no content)")
    ]
    assert display_path("plain/ascii.txt") == "plain/ascii.txt"
    assert str(loaded.documents[0].source).encode("utf-8")  # storable and printable as it is
