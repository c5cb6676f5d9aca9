"""Where each effective configuration value came from, and a secret-free view for display."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr

from cns.config.settings import CONFIG_FILE_ENV, CNSConfig

REDACTED = "**********"

#: ``scheme://user:password@host``: the password part of a URL-valued setting (broker_url, …).
_URL_PASSWORD = re.compile(r"^(?P<head>[a-z][a-z0-9+.-]*://[^:/@]*:)(?P<password>[^@/]+)(?=@)", re.IGNORECASE)


def mask_url_password(value: str) -> str:
    """``redis://:pw@host`` → ``redis://:**********@host``: broker and result-backend URLs are plain
    strings (Celery needs them so), yet a password inside them is the usual way to authenticate."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, value)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out)
    else:
        out[prefix] = value


def redacted_config(config: CNSConfig) -> dict[str, Any]:
    """The effective config as plain data, with every secret replaced by asterisks."""

    def convert(model: BaseModel) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                result[name] = convert(value)
            elif isinstance(value, SecretStr):
                result[name] = REDACTED if value.get_secret_value() else ""
            elif isinstance(value, Path):
                result[name] = str(value)
            elif hasattr(value, "value") and not isinstance(value, (int, float, str)):
                result[name] = value.value
            elif isinstance(value, str):
                result[name] = mask_url_password(value)
            else:
                result[name] = value
        return result

    return convert(config)


def _env_keys() -> dict[str, str]:
    return {k.lower(): k for k in os.environ if k.upper().startswith("CNS_")}


def config_sources(config: CNSConfig) -> dict[str, str]:
    """Map each flattened key (``models.nli``) to ``default``, ``yaml:<file>`` or ``env:<VAR>``."""
    flat: dict[str, Any] = {}
    _flatten("", redacted_config(config), flat)
    yaml_keys: set[str] = set()
    config_file = os.environ.get(CONFIG_FILE_ENV)
    if config_file and Path(config_file).is_file():
        loaded = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        yaml_flat: dict[str, Any] = {}
        _flatten("", loaded, yaml_flat)
        yaml_keys = set(yaml_flat)
    env = _env_keys()
    sources: dict[str, str] = {}
    for key in flat:
        parts = key.split(".")
        env_names = ["cns_" + "__".join(parts[: i + 1]) for i in range(len(parts))]
        hit = next((env[name] for name in reversed(env_names) if name in env), None)
        prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
        if hit:
            sources[key] = f"env:{hit}"
        elif prefixes & yaml_keys:
            sources[key] = f"yaml:{config_file}"
        else:
            sources[key] = "default"
    return sources
