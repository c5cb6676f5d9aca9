"""PostgreSQL and Redis as lab hosts of their own (:mod:`cns.testing.netlab`).

Each runs from the machine's installed binaries but with the host's own data directory, bound to
the host's lab address only, so the test's services are not the machine's shared ones.
"""

from __future__ import annotations

import shutil
import subprocess

from cns.testing.netlab import LabHost, wait_for_port
from cns.testing.redis_server import SAFE_ARGS
from cns.testing.services import ServiceUnavailableError

__all__ = ["start_postgres", "start_redis"]

POSTGRES_PORT = 5432
REDIS_PORT = 6379


def _postgres_bin(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ServiceUnavailableError(f"{name} is not installed (apt-get install postgresql)")
    return found


def start_postgres(host: LabHost, client: LabHost, env: dict[str, str]) -> str:
    """Initialise a cluster in ``host``'s directory, serve it on its address; return the URL."""
    data = host.directory / "pgdata"
    data.mkdir(mode=0o700)
    shutil.chown(data, "postgres", "postgres")
    initdb = [_postgres_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
    done = subprocess.run([*as_postgres, *initdb], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServiceUnavailableError(f"initdb failed: {done.stderr.strip()[-500:]}")
    subnet = host.address.rsplit(".", 1)[0]
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {subnet}.0/24 trust\n")
    argv = [_postgres_bin("postgres"), "-D", str(data), "-h", host.address, "-p", str(POSTGRES_PORT),
            "-k", str(data), "-c", "fsync=off"]  # fmt: skip
    host.start("postgres", argv, env, user="postgres")
    wait_for_port(host, POSTGRES_PORT, via=client)
    return f"postgresql://postgres@{host.address}:{POSTGRES_PORT}/postgres"


def start_redis(host: LabHost, client: LabHost, env: dict[str, str]) -> str:
    """A broker with the safe persistence settings, data in ``host``'s directory; return its URL."""
    if shutil.which("redis-server") is None:
        raise ServiceUnavailableError("redis-server is not installed (apt-get install redis-server)")
    argv = ["redis-server", "--bind", host.address, "--port", str(REDIS_PORT), "--protected-mode", "no",
            "--dir", str(host.directory), *SAFE_ARGS]  # fmt: skip
    host.start("redis", argv, env)
    wait_for_port(host, REDIS_PORT, via=client)
    return f"redis://{host.address}:{REDIS_PORT}/0"
