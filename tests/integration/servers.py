"""Private servers for fault tests: a Redis and a PostgreSQL cluster of the test's own, on free loopback
ports, stopped, killed and started again as a test needs, and removed afterwards. The shared servers of
the machine are never touched (other test runs use them at the same time).

Also used by the benchmarks in bench/ and the backup/restore check, so no pytest import here."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from glob import glob
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class PrivateRedis:
    """`redis-server` on a free port, keeping nothing on disk (like the shared one): a restart empties it,
    which is the harshest kind of broker outage — every queued message is gone."""

    def __init__(self, port: int | None = None, folder: Path | None = None):
        self.port = port or free_port()
        self.folder = Path(folder or tempfile.mkdtemp(prefix="lp-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log"), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait(lambda: _answers(self.port) or self.process.poll() is not None, 20, "redis to listen")
        if self.process.poll() is not None:
            raise RuntimeError((self.folder / "redis.log").read_text(errors="replace"))
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 0.0) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb into a temporary folder, run as the `postgres` system user
    when started as root), trust authentication on loopback, fsync off: it is a test double for outages,
    not a store (fsync off: only an operating system crash could lose a commit; synchronous commit stays on,
    so a killed server keeps every transaction it acknowledged). `kill()` is a crash (SIGKILL of the
    postmaster and its backends), `start()` recovers."""

    def __init__(self, port: int | None = None, *, durable: bool = False):
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="lp-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "sock"
        self.socket_dir.mkdir()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-sync", "--locale=C.UTF-8"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.socket_dir}'\nfsync = {'on' if durable else 'off'}\n"
                       f"full_page_writes = {'on' if durable else 'off'}\nmax_connections = 200\n"
                       f"shared_buffers = {'256MB' if durable else '64MB'}\n")

    def _run(self, argv: list[str]) -> None:
        subprocess.run(self.as_user + argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.folder)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PrivatePostgres":
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"), "-w", "-t", "60",
                   "start"])
        return self

    def kill(self) -> None:
        """A crash: SIGKILL to the postmaster and every backend it started, all at once."""
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text().split()[0])
        victims = [pid] + _children_of(pid)
        for victim in victims:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _wait(lambda: not any(Path(f"/proc/{v}").exists() and _state(v) != "Z" for v in victims), 20,
              "postgres to go away")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self.as_user + [_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def psql(self, sql: str, database: str = "postgres") -> str:
        return subprocess.run(["psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", database, "-c", sql], check=True, capture_output=True, text=True).stdout
