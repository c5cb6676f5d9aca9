from __future__ import annotations

from pathlib import Path

import numpy as np

from cns.models.nli_cache import CachedNLI
from cns.testing.fakes import RuleNLI

PAIRS = [("A man is sleeping.", "A man is not sleeping."), ("Dogs bark loudly.", "Dogs bark.")]


def test_cache_is_lazy_exact_and_persistent(tmp_path: Path) -> None:
    built: list[RuleNLI] = []

    def factory() -> RuleNLI:
        built.append(RuleNLI())
        return built[-1]

    path = tmp_path / "nli.sqlite3"
    cache = CachedNLI(factory, name="rule", version="1", path=path)
    assert built == []  # nothing is loaded until a judgement is missing
    first = cache.predict([*PAIRS, PAIRS[0]])
    assert np.allclose(first, RuleNLI().predict([*PAIRS, PAIRS[0]]))
    assert len(built) == 1 and built[0].pairs_seen == 2  # the repeated pair was asked once
    again = cache.predict(list(reversed(PAIRS)))
    assert np.allclose(again, first[[1, 0]]) and built[0].pairs_seen == 2
    cache.close()
    reopened = CachedNLI(factory, name="rule", version="1", path=path)
    assert np.allclose(reopened.predict(PAIRS), first[:2]) and len(built) == 1 and reopened.hits == 2
    other_version = CachedNLI(factory, name="rule", version="2", path=path)
    other_version.predict(PAIRS[:1])
    assert other_version.misses == 1 and len(built) == 2
    assert reopened.predict([]).shape == (0, 3)
