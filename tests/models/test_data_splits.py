"""Splits are deterministic, disjoint by group key, roughly 60/20/20, and pair builders are sane."""

from __future__ import annotations

from cns.models import data_splits as ds


def test_split_of_is_stable_and_dataset_salted() -> None:
    assert ds.split_of("snli", "A man is here.") == ds.split_of("snli", "A man is here.")
    keys = [f"key-{i}" for i in range(2000)]
    fractions = {s: sum(ds.split_of("x", k) == s for k in keys) / len(keys) for s in ds.SPLITS}
    assert 0.55 < fractions["train"] < 0.65
    assert 0.15 < fractions["dev"] < 0.25
    assert any(ds.split_of("a", k) != ds.split_of("b", k) for k in keys[:50])


def test_snli_disjoint_by_premise_and_labels_valid() -> None:
    groups = {s: {r.group for r in ds.load_snli(s)} for s in ds.SPLITS}
    assert not groups["train"] & groups["dev"]
    assert not groups["train"] & groups["test"]
    assert not groups["dev"] & groups["test"]
    total = sum(len(ds.load_snli(s)) for s in ds.SPLITS)
    assert total == 1289 - 16
    assert all(r.label in ds.NLI_LABELS for s in ds.SPLITS for r in ds.load_snli(s))


def test_fever_claims_keep_both_evidence_rows_together() -> None:
    claims = {s: [r.claim for r in ds.load_fever(s)] for s in ds.SPLITS}
    assert not set(claims["train"]) & set(claims["test"])
    assert not set(claims["dev"]) & set(claims["test"])
    for s in ds.SPLITS:
        labels: dict[str, set[str]] = {}
        for r in ds.load_fever(s):
            labels.setdefault(r.claim, set()).add(r.label)
        assert all(v == {"SUPPORTS", "REFUTES"} for v in labels.values())
    assert sum(len(v) for v in claims.values()) == 708


def test_perspectrum_disjoint_by_claim_id() -> None:
    ids = {s: {c.claim_id for c in ds.load_perspectrum(s)} for s in ds.SPLITS}
    assert not ids["train"] & ids["test"]
    assert not ids["dev"] & ids["test"]
    assert sum(len(v) for v in ids.values()) == 680


def test_pair_builders_are_deterministic_and_capped() -> None:
    a = ds.opposition_pairs("test", max_per_claim=5)
    assert a == ds.opposition_pairs("test", max_per_claim=5)
    assert {y for *_, y in a} == {0, 1}
    per_claim = len(ds.load_perspectrum("test"))
    assert len(a) <= 5 * per_claim
    fever = ds.fever_pairs("test")
    assert len(fever) == len(ds.load_fever("test"))
    assert sum(y for *_, y in fever) * 2 == len(fever)
    stance = ds.stance_pairs("dev")
    assert {y for *_, y in stance} == {0, 1}


def test_split_fingerprints_differ_between_splits() -> None:
    prints = {ds.split_fingerprint("fever", s) for s in ds.SPLITS}
    assert len(prints) == 3
