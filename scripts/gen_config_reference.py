"""Regenerate docs/configuration.md from the CNSConfig model (run after changing settings).

Usage: .venv/bin/python scripts/gen_config_reference.py
A test (tests/config/test_config_docs.py) fails when a key is missing from the document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cns.config import CNSConfig, redacted_config

HEADER = """# Configuration reference

`CNSConfig` (pydantic-settings) builds the configuration from, lowest precedence first:

1. the defaults below;
2. the YAML file named by `CNS_CONFIG_FILE` (or `cns --config FILE`); profiles ship in
   `config/dev.yaml` and `config/prod.yaml`;
3. environment variables: `CNS_` + the key, nested keys joined by `__`
   (`CNS_MODELS__NLI=cross-encoder/nli-deberta-v3-xsmall`); structured values as JSON
   (`CNS_CRITIC_WEIGHTS='{"grounding":0.5,"logic":0.25,"novelty":0.25}'`);
4. keyword arguments (`CNSConfig(embedding_dim=768)`).

Invalid values fail at start-up with a `ConfigError` naming the key. `cns config show` prints
the effective value of every key and where it came from; secrets are shown as asterisks.
`critic_weights` also accepts a preset name: `default` (0.4/0.3/0.3), `exploration`
(0.1/0.1/0.8) or `verification` (0.45/0.45/0.1). Backend names (`models.embedding_backend`,
`models.nli_backend`, `llm.backend`) are checked against one registry, `cns/config/backends.py`;
the heuristic extractor's thresholds are the `extraction.*` keys.

| key | environment variable | default | meaning |
|---|---|---|---|
"""


def rows(model: type[BaseModel], values: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        sub = values.get(name)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(sub, dict):
            out.extend(rows(annotation, sub, f"{key}."))
            continue
        env = "CNS_" + key.replace(".", "__").upper()
        default = json.dumps(sub) if not isinstance(sub, str) else sub
        if name == "data_dir":
            default = "~/.cns"
        meaning = (field.description or "").replace("|", "\\|")
        out.append(f"| `{key}` | `{env}` | `{default}` | {meaning} |")
    return out


def main() -> None:
    lines = rows(CNSConfig, redacted_config(CNSConfig()))
    Path("docs/configuration.md").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote docs/configuration.md ({len(lines)} keys)")


if __name__ == "__main__":
    main()
