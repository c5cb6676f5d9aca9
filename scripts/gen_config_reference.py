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

Invalid values fail at start-up with a `ConfigError` naming the key; the `cns` command prints it
as one line (`error: …`, exit code 1), never a traceback. A YAML syntax error names the file,
line, column and problem; a list or section given in the environment must be JSON, and the error
names the variable. An unknown key in the YAML file or under a section
(`CNS_MODELS__NLI_BAKEND`) is an error with the closest known key. A `CNS_` variable that names no
key at all (`CNS_EMBEDING_DIM`) cannot be refused, since other programs may set it: it is
ignored, with one warning line listing it and the closest known name. `CNS_CONFIG_FILE`,
`CNS_API_KEY` (the key `cns run --api` sends), `CNS_PUBLIC_DATA_DIR` (the evaluation data), and the
test variables `CNS_FAKE_NLI_*`, `CNS_TEST_*`, `CNS_RELIABILITY_RESULTS` are read elsewhere and not
warned about. `cns config show` prints the effective value of every key and where it came from;
secrets are shown as asterisks.

**Critic weights.** The trust score is the weighted mean of the three critic scores,
T = Σ wᵢ sᵢ / Σ wᵢ (grounding, logic, novelty): the weights are divided by their sum, so only
their ratios matter. `5/0/0` is the same as `1/0/0`, and `2/1/1` the same as `0.5/0.25/0.25`.
Weights must be ≥ 0 and not all 0 (refused); a set that gives one critic all of the weight is
accepted with a warning, since the trust score is then that critic's score alone.
`critic_weights` also accepts a preset name, in YAML (`critic_weights: exploration`) and in the
environment (`CNS_CRITIC_WEIGHTS=exploration`): `default` (0.4/0.3/0.3), `exploration`
(0.1/0.1/0.8) or `verification` (0.45/0.45/0.1).

**Worker timing.** Some `celery.*` settings are only safe together, and a configuration that breaks
one of these relations is refused at start-up (API, worker, beat and CLI alike) with a
`ConfigError` naming both keys and the values it got:

- `task_soft_time_limit_seconds` < `task_time_limit_seconds` (the task gets to stop and record
  its failure before it is killed);
- `task_time_limit_seconds` < `visibility_timeout_seconds` (otherwise Redis hands a running task
  to a second worker);
- `task_time_limit_seconds` < `job_deadline_seconds` (the reconciler re-publishes a job silent
  for the deadline; `job_deadline_seconds: 15` with the 360 s hard limit is refused);
- `lease_seconds` < `visibility_timeout_seconds` (a dead worker's message given back by Redis
  before its lease ran out would find the job still held);
- 2 × `lease_renew_seconds` < `lease_seconds` (a lease outlives one late renewal).

A job whose worker died is handed on within about `lease_seconds` + `reconcile_interval_seconds`
(beat alive) or `lease_seconds` + 2.5 × `reconcile_interval_seconds` (beat dead: the workers
sweep themselves), plus its own run time: 40–55 s with the defaults. docs/deployment.md says
what to tune.

Backend names (`models.embedding_backend`, `models.nli_backend`, `llm.backend`) are checked
against one registry, `cns/config/backends.py`; the heuristic extractor's thresholds are the
`extraction.*` keys.

| key | environment variable | default | meaning |
|---|---|---|---|
"""


def rows(model: type[BaseModel], values: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        sub = values.get(name)
        env = "CNS_" + key.replace(".", "__").upper()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(sub, dict):
            if field.description:  # a section set as a whole too (critic_weights: a preset name)
                meaning = field.description.replace("|", "\\|")
                out.append(f"| `{key}` | `{env}` | `{json.dumps(sub)}` | {meaning} |")
            out.extend(rows(annotation, sub, f"{key}."))
            continue
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
