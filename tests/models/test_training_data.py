"""The extra training rows never share a text with DEV/TEST and use only TRAIN debate motions."""

from __future__ import annotations

from collections import Counter

from cns.models import data_splits as ds
from cns.models import training_data as td


def test_no_training_row_shares_a_text_with_dev_or_test() -> None:
    reserved = td.reserved_texts()
    assert len(reserved) > 3000  # SNLI, FEVER-Symmetric and PERSPECTRUM dev+test texts
    rows = td.nli_rows() + td.fact_rows() + td.stance_rows("train")
    leaked = [
        r for r in rows if td.normalise(r.premise) in reserved or td.normalise(r.hypothesis) in reserved
    ]
    assert leaked == []


def test_the_full_snli_dev_file_loses_exactly_the_evaluation_premises() -> None:
    snli_full = [r for r in td.nli_rows() if r.source == "snli-1.0-dev-full"]
    held_out = {td.normalise(r.premise) for split in ("dev", "test") for r in ds.load_snli(split)}
    assert 7000 < len(snli_full) < 8500  # 8,500 rows in the file; the evaluation premises removed
    assert not {td.normalise(r.premise) for r in snli_full} & held_out


def test_stance_rows_come_only_from_their_split_of_motions() -> None:
    train, test = td.stance_rows("train"), td.stance_rows("test")
    for split, rows in (("train", train), ("test", test)):
        assert {ds.split_of(td.STANCE_FILES[r.source], r.premise) for r in rows} == {split}
    assert {r.premise for r in train}.isdisjoint({r.premise for r in test})
    labels = Counter(r.label for r in train)
    assert set(labels) == {0, 2} and min(labels.values()) > 3000  # pro and con, both well represented


def test_motions_group_arguments_by_side() -> None:
    grouped = td.motions("test")
    assert len(grouped) >= 8
    for sides in grouped.values():
        assert set(sides) <= {0, 2}
        assert all(isinstance(text, str) and text for texts in sides.values() for text in texts)
