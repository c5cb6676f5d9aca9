"""The default configuration works with the network blocked (no hub access is ever attempted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, socket, sys

attempts = []
_connect = socket.socket.connect

def guarded(self, address):
    host = address[0] if isinstance(address, tuple) else str(address)
    if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
        attempts.append(str(address))
        raise OSError("network blocked by test")
    return _connect(self, address)

socket.socket.connect = guarded
socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network blocked by test"))

from cns import CNSConfig, configure_logging
from cns.models import load_embedder, load_nli

configure_logging(fmt="json", stream=sys.stderr)

config = CNSConfig()
embedder = load_embedder(config)
nli = load_nli(config=config)
probs = nli.predict([("A man is sleeping.", "A man is awake.")])
vectors = embedder.encode(["Continents drift."])
print(json.dumps({"attempts": attempts, "nli": nli.name, "shape": list(probs.shape),
                  "row_sum": float(probs.sum()), "dim": int(vectors.shape[1])}))
"""


def test_default_models_load_and_answer_with_the_network_blocked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "CNS_"))}
    env["CNS_DATA_DIR"] = str(tmp_path)  # no HF_HUB_OFFLINE: the code itself must not try the hub
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert report["nli"] == "embedded-nli" and report["shape"] == [1, 3]
    assert abs(report["row_sum"] - 1.0) < 1e-4 and report["dim"] == 384
    assert '"event": "nli.backend_fallback"' in result.stderr  # auto announces the backend it used
