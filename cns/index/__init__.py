"""Vector indexes behind the :class:`cns.ports.VectorIndex` port."""

from cns.index.memory import ExactVectorIndex

__all__ = ["ExactVectorIndex"]
