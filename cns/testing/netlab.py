"""Several test hosts on one machine: network namespaces joined by a private switch.

Why: a deployment over several hosts differs from one machine in two ways that a single-host
test cannot catch: every connection crosses a network (no ``127.0.0.1`` shortcut to a service
that happens to run next door), and no host can read another host's disk. A :class:`NetLab`
gives each host

* its own network namespace with one interface on a private /24, linked by veth to a bridge that
  lives in a namespace of its own (the machine's own network never sees the lab's traffic, and
  the lab cannot reach anything but its hosts);
* its own directory; every process started on the host runs in a private mount namespace in
  which the *other* hosts' directories are covered by empty tmpfs mounts, so a path that leaks
  from one host to another reads nothing.

Creating namespaces needs root (``CAP_SYS_ADMIN`` and ``CAP_NET_ADMIN``); :func:`lab_supported`
says whether this process can. Everything the lab creates is removed by :meth:`NetLab.close`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cns.testing.services import ServiceUnavailableError

__all__ = ["LabHost", "NetLab", "lab_supported", "wait_for_port"]

_TOOLS = ("ip", "unshare", "mount", "setpriv")


def lab_supported() -> str | None:
    """``None`` when namespaces can be made here, else the reason they cannot."""
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (apt-get install iproute2 util-linux)"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"cnsprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServiceUnavailableError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class LabHost:
    """One host: a namespace, an address and a directory only its own processes can see."""

    lab: NetLab
    name: str
    namespace: str
    address: str
    directory: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    handles: list[IO[bytes]] = field(default_factory=list)

    def command(self, argv: list[str], *, user: str | None = None) -> list[str]:
        """``argv`` wrapped to run in this host's network and mount namespaces (as ``user``)."""
        hidden = [str(h.directory) for h in self.lab.hosts.values() if h is not self]
        covers = " && ".join(f"mount -t tmpfs -o size=1m,mode=000 cnslab {d}" for d in hidden) or "true"
        as_user = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] if user else []
        script = f'{covers} && exec "$@"'
        return [
            "ip", "netns", "exec", self.namespace,
            "unshare", "--mount", "--propagation", "private",
            "sh", "-c", script, "sh", *as_user, *argv,
        ]  # fmt: skip

    def start(
        self, name: str, argv: list[str], env: dict[str, str], *, user: str | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` on this host; output goes to ``<directory>/<name>.log``."""
        log = (self.directory / f"{name}.log").open("ab")
        self.handles.append(log)
        proc = subprocess.Popen(
            self.command(argv, user=user), env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.directory,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def run(self, argv: list[str], env: dict[str, str], *, timeout: float = 120.0) -> str:
        """Run ``argv`` on this host to completion and return its standard output."""
        done = subprocess.run(
            self.command(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False,
            cwd=self.directory,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(
                f"{argv[:4]} on {self.name} failed ({done.returncode}): {done.stderr[-2000:]}"
            )
        return done.stdout

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group of ``name`` (a container's OOM kill does the same)."""
        proc = self.procs.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)
        # anything still in the namespace (a daemon that forked away from its group)
        pids = subprocess.run(
            ["ip", "netns", "pids", self.namespace], capture_output=True, text=True, check=False
        )
        for pid in pids.stdout.split():
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        for handle in self.handles:
            handle.close()
        self.handles.clear()


class NetLab:
    """Hosts on a private /24 behind one switch; use as a context manager."""

    def __init__(self, root: Path | None = None) -> None:
        self.token = secrets.token_hex(2)
        self.prefix = f"cnslab{self.token}"
        # host directories live directly under /tmp so that service users (postgres) can enter them
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-", dir=root))
        self.root.chmod(0o755)
        self.subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(256)}"
        self.switch = f"{self.prefix}-sw"
        self.hosts: dict[str, LabHost] = {}
        self._namespaces: list[str] = []

    def __enter__(self) -> NetLab:
        try:
            self._add_namespace(self.switch)
            _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.switch, "link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _add_namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def add_host(self, name: str) -> LabHost:
        """A new host named ``name`` with the next free address of the lab's subnet."""
        index = len(self.hosts) + 2
        namespace = f"{self.prefix}-{name}"
        address = f"{self.subnet}.{index}"
        self._add_namespace(namespace)
        outer, inner = f"v{self.token}{index}s", f"v{self.token}{index}h"
        _ip("link", "add", inner, "type", "veth", "peer", "name", outer)
        _ip("link", "set", inner, "netns", namespace)
        _ip("link", "set", outer, "netns", self.switch)
        _ip("-n", self.switch, "link", "set", outer, "master", "br0", "up")
        _ip("-n", namespace, "link", "set", inner, "name", "eth0")
        _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        directory = self.root / name
        directory.mkdir(mode=0o755)
        host = LabHost(self, name, namespace, address, directory)
        self.hosts[name] = host
        return host

    def tail_logs(self, lines: int = 25) -> str:
        """The last ``lines`` of every process log of every host (for a failing test's message)."""
        parts = []
        for host in self.hosts.values():
            for log in sorted(host.directory.glob("*.log")):
                text = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {host.name}/{log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def close(self) -> None:
        for host in self.hosts.values():
            host.stop()
        for namespace in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        self._namespaces.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_for_port(host: LabHost, port: int, *, via: LabHost, timeout: float = 60.0) -> None:
    """Wait until ``host`` accepts TCP connections on ``port``, probed from host ``via``."""
    deadline = time.monotonic() + timeout
    connect = f"import socket; socket.create_connection(('{host.address}', {port}), 1).close()"
    probe = [sys.executable, "-c", connect]
    while time.monotonic() < deadline:
        done = subprocess.run(via.command(probe), capture_output=True, check=False)
        if done.returncode == 0:
            return
        time.sleep(0.3)
    raise AssertionError(f"nothing answered on {host.name} ({host.address}:{port}) after {timeout} s")
