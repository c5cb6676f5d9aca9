"""The HTTP API of CNS (FastAPI): ``from cns.api import create_app``."""

from cns.api.app import create_app

__all__ = ["create_app"]
