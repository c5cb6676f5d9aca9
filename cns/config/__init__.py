"""Configuration: :class:`CNSConfig` and helpers (see ``docs/configuration.md``)."""

from cns.config.settings import (
    CRITIC_WEIGHT_PRESETS,
    ChiralityMethod,
    CNSConfig,
    CriticWeights,
    get_config,
    reset_config_cache,
)
from cns.config.sources import config_sources, redacted_config

__all__ = [
    "CRITIC_WEIGHT_PRESETS",
    "CNSConfig",
    "ChiralityMethod",
    "CriticWeights",
    "config_sources",
    "get_config",
    "redacted_config",
    "reset_config_cache",
]
