"""A throwaway PostgreSQL cluster for the tests: `initdb` and `pg_ctl` in a temporary folder.

The Debian `postgresql` package provides the binaries (scripts/test.sh installs it when it can);
without them the tests that need a server are skipped with that reason. initdb refuses to run as
root, so as root the cluster runs as the `postgres` user (or `nobody`) in a folder it owns.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

CLUSTER_USER = "studio"  # the cluster's superuser, trusted on localhost only


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "pg_ctl").exists():
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: (len(p), p))  # "9.6" < "15" < "16"
    return next((Path(f) for f in reversed(folders) if (Path(f) / "initdb").exists()), None)


def _unprivileged_user() -> str | None:
    """As root: an existing account to run the server as (None: not root, run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a 'postgres' nor a 'nobody' account to run PostgreSQL as")


class Cluster:
    """A running cluster on 127.0.0.1 and a free port; `database()` makes a fresh, empty database."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.user = _unprivileged_user()
        self.folder = Path(tempfile.mkdtemp(prefix="studio-pg-"))  # /tmp: reachable by another user
        self.data = self.folder / "data"
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._numbers = itertools.count(1)
        self._run("initdb", "-D", str(self.data), "-U", CLUSTER_USER, "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        # fsync off: a throwaway cluster for tests, not a durability claim about PostgreSQL itself
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{CLUSTER_USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"studio_test_{next(self._numbers)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={CLUSTER_USER} dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin_dir / program), *arguments]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
