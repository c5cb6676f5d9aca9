"""Orchestration: the workflow manager that ingests, evaluates and admits SNOs."""

from cns.workflow.manager import CNSWorkflowManager
from cns.workflow.report import FailedDocument, IngestedDocument, IngestReport

__all__ = ["CNSWorkflowManager", "FailedDocument", "IngestReport", "IngestedDocument"]
