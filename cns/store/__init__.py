"""SNO stores behind the :class:`cns.ports.SNOStore` port."""

from cns.store.memory import InMemorySNOStore

__all__ = ["InMemorySNOStore"]
