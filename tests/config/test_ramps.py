"""The chirality ramps must rise inside the range their measure can take, or loading says which."""

from __future__ import annotations

import pytest

from cns.config import CNSConfig
from cns.errors import ConfigError


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("topic_gate", (0.5, 0.4), "topic_gate must be two similarities -1 <= low < high <= 1"),
        ("topic_gate", (-1.5, 0.4), "topic_gate must be two similarities"),
        ("contrast_gate", (-3.0, 0.1), "contrast_gate must be two contrasts -2 <= low < high <= 2"),
        ("contrast_gate", (0.1, 0.1), "contrast_gate must be two contrasts"),
    ],
)
def test_a_ramp_that_does_not_rise_inside_its_range_is_refused(
    key: str, value: tuple[float, float], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        CNSConfig(chirality={key: value})


def test_ramps_inside_their_range_load() -> None:
    config = CNSConfig(chirality={"topic_gate": (-1.0, 1.0), "contrast_gate": (-2.0, 2.0)})
    assert config.chirality.topic_gate == (-1.0, 1.0) and config.chirality.contrast_gate == (-2.0, 2.0)
