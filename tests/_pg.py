"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` into a temp dir, started
on a free loopback port with its unix socket inside that dir, stopped and deleted afterwards.

As root the server runs as the system user ``postgres`` (PostgreSQL refuses to run as root).
``start_cluster`` raises ``PgUnavailable`` with the reason when the binaries or that user are
missing; callers decide whether that is a skip or, under ``CI=true``, a failure.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PgCluster", "PgUnavailable", "pg_bindir", "start_cluster"]

#: Seconds pg_ctl waits for the server to start or stop.
_PG_CTL_WAIT = 60
#: For tests, durability is not the point: skip fsyncs (the benchmark turns them back on).
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PgUnavailable(RuntimeError):
    """PostgreSQL's server binaries (or, as root, the ``postgres`` user) are not here."""


@dataclass
class PgCluster:
    """A running throwaway cluster: connect with ``dsn`` (unix socket) or ``tcp_dsn``."""

    directory: Path
    port: int
    bindir: Path
    run_as: str | None

    @property
    def socket_dir(self) -> Path:
        """Where the server's unix socket lives."""
        return self.directory / "socket"

    @property
    def dsn(self) -> str:
        """A libpq connection string over the unix socket, as superuser ``postgres``."""
        return f"host={self.socket_dir} port={self.port} user=postgres dbname=postgres"

    @property
    def tcp_dsn(self) -> str:
        """The same over loopback TCP."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        try:
            _run(self, "pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def pg_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``, or ``PgUnavailable``."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        if done.returncode == 0:
            candidates.append(Path(done.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise PgUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH")


def start_cluster(*, durable: bool = False) -> PgCluster:
    """Create and start a cluster; ``durable`` keeps PostgreSQL's default fsync settings."""
    bindir = pg_bindir()
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PgUnavailable("running as root and there is no 'postgres' user") from None
        run_as = "postgres"
    directory = Path(tempfile.mkdtemp(prefix="pleo-pg-"))
    cluster = PgCluster(directory=directory, port=_free_port(), bindir=bindir, run_as=run_as)
    try:
        cluster.socket_dir.mkdir()
        if run_as is not None:
            for path in (directory, cluster.socket_dir):
                shutil.chown(path, run_as, run_as)
        data = str(directory / "data")
        _run(cluster, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-sync", "--no-instructions")  # fmt: skip
        settings = [
            f"port={cluster.port}",
            "listen_addresses=127.0.0.1",
            f"unix_socket_directories={cluster.socket_dir}",
            *(() if durable else _FAST_SETTINGS),
        ]
        options = " ".join(f"-c {setting}" for setting in settings)
        log = str(directory / "server.log")
        _run(cluster, "pg_ctl", "-D", data, "-l", log, "-o", options, "-w",
             "-t", str(_PG_CTL_WAIT), "start")  # fmt: skip
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return cluster


def _run(cluster: PgCluster, program: str, *args: str) -> None:
    command = [str(cluster.bindir / program), *args]
    if cluster.run_as is not None:
        command = ["runuser", "-u", cluster.run_as, "--", *command]
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=_PG_CTL_WAIT + 30
    )
    if done.returncode != 0:
        log = cluster.directory / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr[-2000:]}\n{tail}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
