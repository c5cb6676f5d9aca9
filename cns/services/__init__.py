"""The service layer: the one place the CLI, the API routes and the Celery tasks call into."""

from cns.services.evaluation import Evaluator, build_reference_index

__all__ = ["Evaluator", "build_reference_index"]
