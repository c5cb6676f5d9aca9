"""Reports and exports of a CNS run: a self-contained HTML report, Mermaid and GraphML graphs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.report.exports import sno_to_graphml, sno_to_mermaid, write_graph_exports
    from cns.report.html import PairView, ReportData, render_report, write_report


__all__ = [
    "PairView",
    "ReportData",
    "render_report",
    "sno_to_graphml",
    "sno_to_mermaid",
    "write_graph_exports",
    "write_report",
]

_EXPORTS = {
    "sno_to_graphml": "cns.report.exports",
    "sno_to_mermaid": "cns.report.exports",
    "write_graph_exports": "cns.report.exports",
    "PairView": "cns.report.html",
    "ReportData": "cns.report.html",
    "render_report": "cns.report.html",
    "write_report": "cns.report.html",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
