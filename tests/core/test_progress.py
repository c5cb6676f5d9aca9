from __future__ import annotations

import pytest

from cns.core.progress import eta_seconds


def test_eta_is_the_mean_time_per_unit_times_the_units_left() -> None:
    assert eta_seconds(20.0, 2, 5) == pytest.approx(30.0)
    assert eta_seconds(3.0, 3, 3) == 0.0  # finished
    assert eta_seconds(5.0, 0, 4) is None  # no unit done yet: nothing to go on
    assert eta_seconds(5.0, 2, None) is None  # total not known yet
