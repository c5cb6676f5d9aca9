"""Reports and exports of a CNS run: a self-contained HTML report, Mermaid and GraphML graphs."""

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
