"""The version of CNS, in a module of its own so any layer can read it without importing the
public facade (``cns/__init__.py`` imports the workflow, which would make every reader of the
version depend on the whole product)."""

__version__ = "0.1.0"
