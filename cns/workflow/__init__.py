"""Orchestration: the workflow manager that ingests, evaluates and admits SNOs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager
    from cns.workflow.report import FailedDocument, IngestedDocument, IngestReport


__all__ = ["CNSWorkflowManager", "FailedDocument", "IngestReport", "IngestedDocument"]

_EXPORTS = {
    "CNSWorkflowManager": "cns.workflow.manager",
    "FailedDocument": "cns.workflow.report",
    "IngestedDocument": "cns.workflow.report",
    "IngestReport": "cns.workflow.report",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
