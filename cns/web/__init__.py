"""The web interface for analysts: server-rendered pages over the API's service layer.

:func:`~cns.web.app.create_web_app` is the API app (:func:`cns.api.create_app`) with the pages
added at ``/`` and ``/ui/…``; ``cns serve`` and ``cns ui`` both serve it. docs/web.md describes
the pages, the login and what runs where.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.web.app import create_web_app


__all__ = ["create_web_app"]

_EXPORTS = {
    "create_web_app": "cns.web.app",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
