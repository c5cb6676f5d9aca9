"""Configuration: :class:`CNSConfig` and helpers (see ``docs/configuration.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "CRITIC_WEIGHT_PRESETS": "cns.config.settings",
    "ChiralityMethod": "cns.config.settings",
    "CNSConfig": "cns.config.settings",
    "CriticWeights": "cns.config.settings",
    "get_config": "cns.config.settings",
    "reset_config_cache": "cns.config.settings",
    "config_sources": "cns.config.sources",
    "redacted_config": "cns.config.sources",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
