"""Check the configured LLM once before a run, and decide: use it, fall back, or stop.

Without this, a run against a server that is down spends every document's retries (and every
synthesis's refinement rounds) rediscovering the same outage. One check up front turns that into
one clear sentence and a decision taken by ``llm.on_unavailable``: ``fallback`` runs the offline
extractor and synthesizer and records the reason on every SNO it makes; ``fail`` stops before any
document is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cns.errors import ModelUnavailableError
from cns.logging_setup import get_logger
from cns.models.llm_check import EXIT_BAD_JSON, LLMCheckReport, check_llm
from cns.models.llm_presets import HTTP_BACKENDS

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)

GateStatus = Literal["none", "ready", "degraded", "fallback"]


@dataclass(frozen=True)
class LLMGate:
    """The outcome of the up-front check; ``message`` is the one line a user is shown (or empty)."""

    status: GateStatus
    message: str
    report: LLMCheckReport | None = None

    @property
    def label(self) -> str:
        """Short form for run summaries: ``none``, ``ready``, ``degraded`` or ``fallback``."""
        return self.status


def gate_llm(manager: CNSWorkflowManager) -> LLMGate:
    """Check ``manager``'s configured LLM once; switch it off (fallback) or raise (fail) if unusable.

    Only HTTP backends are checked: ``none`` has nothing to check and ``fake`` is a test double.
    A server that answers but writes invalid JSON is kept (each reply is still validated, and the
    extractor falls back per document), with a warning: that is a quality problem, not an outage.
    """
    llm_config = manager.config.llm
    if llm_config.backend not in HTTP_BACKENDS:
        return LLMGate("none" if llm_config.backend == "none" else "ready", "")
    report = check_llm(llm_config)
    if report.ok:
        log.info("llm.check.ok", backend=report.backend, model=report.model, url=report.base_url)
        return LLMGate("ready", "", report)
    if report.exit_code == EXIT_BAD_JSON:
        message = f"LLM {report.model!r} answers but its JSON did not validate: {report.problem}"
        log.info("llm.check.bad_json", backend=report.backend, model=report.model)
        return LLMGate("degraded", message, report)
    where = f"LLM {report.backend} at {report.base_url} (model {report.model!r}) is unavailable"
    if llm_config.on_unavailable == "fail":
        log.error("llm.check.failed", backend=report.backend, url=report.base_url, exit_code=report.exit_code)
        raise ModelUnavailableError(
            f"{where}: {report.problem} Stopping before any document is ingested "
            "(llm.on_unavailable: fail; set it to fallback to run the offline extractor and synthesizer)",
            url=report.base_url,
            model=report.model,
        )
    reason = f"{where}: {report.problem}"
    manager.disable_llm(reason)
    # info, not warning: the caller shows ``message`` to the user once (the CLI prints it)
    log.info("llm.check.fallback", backend=report.backend, url=report.base_url, exit_code=report.exit_code)
    return LLMGate(
        "fallback",
        f"{reason} — continuing with the offline extractor and synthesizer (llm.on_unavailable: fallback)",
        report,
    )
