"""Who used the CPU during a benchmark step: the API, PostgreSQL, Redis, the load generator, others.

The machine's two cores are shared with other work, and a latency number means little without
the load it was measured under. A snapshot of every process's CPU seconds before and after a
step gives the split; "others" lists the busiest processes that are none of ours.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import psutil

Snapshot = dict[int, tuple[str, float]]


def snapshot() -> Snapshot:
    """CPU seconds (user + system) and a short command of every process that can be read."""
    seen: Snapshot = {}
    for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times = proc.info["cpu_times"]
        if times is None:
            continue
        name = proc.info["name"] or "?"
        command = " ".join(proc.info["cmdline"] or [name])[:80]
        seen[proc.pid] = (f"{name}\t{command}", times.user + times.system)
    return seen


@dataclass
class CpuShare:
    """CPU seconds by group over one step, and the wall time they are compared with."""

    wall_seconds: float
    by_group: Counter[str]
    busiest_others: list[tuple[str, float]]

    def per_request_ms(self, group: str, requests: int) -> float:
        """CPU milliseconds ``group`` spent per request of the step."""
        return self.by_group[group] * 1000.0 / requests if requests else float("nan")

    def describe(self) -> str:
        cores = psutil.cpu_count() or 1
        total = sum(self.by_group.values())
        parts = ", ".join(
            f"{group} {seconds / self.wall_seconds * 100:.0f}%"
            for group, seconds in self.by_group.most_common()
        )
        load = os.getloadavg()[0]
        text = (
            f"CPU {total / self.wall_seconds * 100:.0f}% of {cores * 100}% ({parts}); load average {load:.1f}"
        )
        if self.busiest_others:
            names = "; ".join(f"{cmd} {s / self.wall_seconds * 100:.0f}%" for cmd, s in self.busiest_others)
            text += f"\n    busiest other processes: {names}"
        return text


def _group(pid: int, name: str, api_pids: set[int]) -> str:
    if pid in api_pids:
        return "api"
    if pid == os.getpid():
        return "load generator"
    if name in ("postgres", "redis-server"):
        return name
    return "others"


def share(before: Snapshot, after: Snapshot, wall_seconds: float, api_root: int) -> CpuShare:
    """The CPU used between two snapshots, grouped; ``api_root`` and its descendants are the API."""
    try:
        root = psutil.Process(api_root)
        api_pids = {api_root, *(c.pid for c in root.children(recursive=True))}
    except psutil.NoSuchProcess:
        api_pids = set()
    groups: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for pid, (label, seconds) in after.items():
        used = seconds - before.get(pid, (label, 0.0))[1]
        if used <= 0:
            continue
        name, command = label.split("\t", 1)
        group = _group(pid, name, api_pids)
        groups[group] += used
        if group == "others":
            others[command] += used
    busiest = [(cmd, s) for cmd, s in others.most_common(3) if s / wall_seconds >= 0.05]
    return CpuShare(wall_seconds, groups, busiest)
