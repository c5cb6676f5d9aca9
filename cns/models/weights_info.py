"""Facts about the shipped embedded-NLI weights that are cheap to read (no torch import).

The version is the SHA-256 prefix of the weights file, exactly as :class:`EmbeddedNLI` reports
it, so cached judgements are invalidated whenever the weights change.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from cns.errors import ModelUnavailableError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
METADATA_FILE = "embedded_nli.json"


@lru_cache(maxsize=4)
def shipped_weights_version(weights_dir: Path = WEIGHTS_DIR) -> str:
    meta_path = weights_dir / METADATA_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        digest = hashlib.sha256()
        with (weights_dir / str(meta["weights_file"])).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelUnavailableError(
            f"embedded NLI weights are missing or unreadable under {weights_dir}: {exc}; reinstall cns or "
            "retrain with scripts/train_embedded_nli.py"
        ) from exc
    return digest.hexdigest()[:12]
