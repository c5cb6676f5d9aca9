"""Model backends (embeddings, NLI, LLM) and the data and metrics used to build and measure them.

Public entry points: :func:`load_embedder`, :func:`load_nli`, :func:`load_llm`.
"""

import os

# weight-loading progress bars are noise in CLI output and logs (CNS reports its own progress)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from cns.models.factory import NLI_BACKENDS, load_embedder, load_llm, load_nli

__all__ = ["NLI_BACKENDS", "load_embedder", "load_llm", "load_nli"]
