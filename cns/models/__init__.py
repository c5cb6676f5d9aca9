"""Model backends (embeddings, NLI, LLM) and the data and metrics used to build and measure them.

Public entry points: :func:`load_embedder`, :func:`load_nli`, :func:`load_llm`.
"""

from __future__ import annotations

import os

# weight-loading progress bars are noise in CLI output and logs (CNS reports its own progress)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
# torch's OpenMP threads wait for work passively instead of spinning. Why: CNS runs the API, the
# workers and the CLI as separate processes on the same cores; a spinning thread burns the core
# another process needs, and on 2 shared cores under load the embedded NLI measured 3.2 pairs/s
# with spinning against 19.8 with passive waiting (docs/models.md, "Inference cost"). It must be
# set before torch is first imported, which every model module does after this package.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.models.factory import NLI_BACKENDS, load_embedder, load_llm, load_nli


__all__ = ["NLI_BACKENDS", "load_embedder", "load_llm", "load_nli"]

_EXPORTS = {
    "NLI_BACKENDS": "cns.models.factory",
    "load_embedder": "cns.models.factory",
    "load_llm": "cns.models.factory",
    "load_nli": "cns.models.factory",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
