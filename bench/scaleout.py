"""Scale-out across worker hosts: each "host" is a Linux network namespace of its own (`ip netns`, a veth pair,
its own addresses), running a pipeline worker that reaches one broker and one PostgreSQL over the veth, as
workers on other machines would. Needs root (network namespaces); run as

    PORTAL_ENV=test .venv/bin/python bench/scaleout.py [--hosts 1,2,3] [--items 240] [--delay 0.1] [--json OUT]

It starts a PostgreSQL cluster and a Redis of its own (never the machine's shared ones), migrates, builds a live
document use case whose engine waits `--delay` seconds per item (an engine that waits on I/O, as an LLM or an
OCR service does), and then, for each host count, queues `--items` items and times how long the hosts take
to route them all. Afterwards, with two hosts, one host disappears in the middle of its tasks (every process
in its namespace SIGKILLed, the namespace and its link deleted): the reaper on the surviving side takes over.

Checked every time: every item settled, each routed exactly once (its `work_item.routed` audit events), the
audit chains verify. Printed: items per second per host count and the speed-up over one host, and the JSON.

Addresses: 10.213.N.0/30 on the veth pairs the bench creates itself, inside its own namespaces; nothing else
is addressed. Namespaces are named lp-bench-h<N>-<pid> and removed on exit, also after a failure."""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.servers import PrivatePostgres, PrivateRedis  # noqa: E402

PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))
STRAY = ("BROKER_URL", "RESULT_BACKEND", "APP", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DATABASE_ADMIN_URL",
         "DATABASE_URL", "PORTAL_MEDIA_ROOT", "DEBUG")


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


class Host:
    """A worker host: namespace, veth pair, addresses, and the worker process inside."""

    def __init__(self, number: int, tag: str):
        self.number = number
        self.name = f"lp-bench-h{number}-{tag}"
        self.outer, self.inner = f"lpb{number}o{tag}"[:15], f"lpb{number}i{tag}"[:15]
        self.gateway = f"10.213.{number}.1"  # the servers' side
        self.address = f"10.213.{number}.2"  # the host's own
        self.worker: subprocess.Popen | None = None

    def create(self) -> "Host":
        sh("ip", "netns", "add", self.name)
        sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        sh("ip", "link", "set", self.inner, "netns", self.name)
        sh("ip", "addr", "add", f"{self.gateway}/30", "dev", self.outer)
        sh("ip", "link", "set", self.outer, "up")
        sh("ip", "netns", "exec", self.name, "ip", "addr", "add", f"{self.address}/30", "dev", self.inner)
        sh("ip", "netns", "exec", self.name, "ip", "link", "set", self.inner, "up")
        sh("ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up")
        return self

    def start_worker(self, env: dict, folder: Path) -> None:
        log = open(folder / f"{self.name}.log", "ab")
        self.worker = subprocess.Popen(
            ["ip", "netns", "exec", self.name, CELERY, "-A", "portal", "worker", "-P", "solo", "-Q", "celery",
             "-n", f"host{self.number}@%h", "--without-gossip", "--without-mingle", "-l", "INFO",
             "--include", "tests.integration.worker_hooks"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def pids(self) -> list[int]:
        out = sh("ip", "netns", "pids", self.name, check=False).stdout
        return [int(p) for p in out.split()]

    def stop_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(timeout=10)

    def disappear(self) -> None:
        """The host is gone: every process in it killed at once, its network removed."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.worker:
            self.worker.wait(timeout=10)
        self.remove()

    def remove(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        sh("ip", "link", "del", self.outer, check=False)
        sh("ip", "netns", "del", self.name, check=False)


class World:
    """The servers, the migrated database with a live use case, the maintenance worker and beat (on the
    servers' side), and a way to queue items and read the outcome."""

    def __init__(self, folder: Path, max_hosts: int, delay: float):
        self.folder, self.delay = folder, delay
        self.tag = str(os.getpid())
        self.hosts = [Host(n, self.tag) for n in range(1, max_hosts + 1)]
        self.processes: list[subprocess.Popen] = []
        self.database = self.redis = None

    def __enter__(self) -> "World":
        try:
            for host in self.hosts:
                host.create()
            self.redis = PrivateRedis()
            self.redis_listen = ["127.0.0.1"] + [h.gateway for h in self.hosts]
            self._start_redis()
            self.database = PrivatePostgres()
            with open(self.database.data / "postgresql.conf", "a") as conf:
                conf.write(f"\nlisten_addresses = '{','.join(self.redis_listen)}'\n")
            with open(self.database.data / "pg_hba.conf", "a") as hba:
                hba.write("\nhost all all 10.213.0.0/16 trust\n")
            self.database.start()
            self.database.psql("CREATE DATABASE leitplanke")
            self.env = self._env("127.0.0.1")
            self._manage("manage.py", "migrate", "-v", "0")
            self._manage("-m", "tests.integration.embedded_site", "setup", str(self.delay))
            worker = [CELERY, "-A", "portal", "worker", "-P", "solo", "--without-gossip", "--without-mingle",
                      "-l", "INFO"]
            self._spawn("maintenance", worker + ["-Q", "maintenance", "-n", "maintenance@%h"])
            self._spawn("beat", [CELERY, "-A", "portal", "beat", "-l", "INFO", "-s", str(self.folder / "beat")])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start_redis(self) -> None:
        redis = self.redis
        redis.process = subprocess.Popen(
            ["redis-server", "--port", str(redis.port), "--bind", *self.redis_listen, "--save", "",
             "--appendonly", "no", "--protected-mode", "no", "--dir", str(redis.folder),
             "--logfile", str(redis.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while sh("redis-cli", "-p", str(redis.port), "ping", check=False).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not start")
            time.sleep(0.1)

    def _env(self, server: str) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in STRAY}
        return env | {
            "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_ENV": "test", "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": f"postgres://postgres@{server}:{self.database.port}/leitplanke",
            "CELERY_BROKER_URL": f"redis://{server}:{self.redis.port}/0",
            "PORTAL_VAR_DIR": str(self.folder / "var"), "LEITPLANKE_TEST_JOURNAL": str(self.folder / "journal.jsonl"),
            "RUN_LEASE_SECONDS": "10", "RUN_DISPATCH_SECONDS": "600", "RUN_REAP_SECONDS": "2",
        }

    def _manage(self, *args: str) -> str:
        done = subprocess.run([PYTHON, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=900)
        if done.returncode:
            raise RuntimeError(done.stdout + done.stderr)
        return done.stdout

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "ab")
        self.processes.append(subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def __exit__(self, *exc) -> None:
        for host in self.hosts:
            host.stop_worker()
            host.remove()
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if self.redis:
            self.redis.stop()
        if self.database:
            self.database.remove()

    # --- driving it ------------------------------------------------------------------------------

    def queue(self, count: int, dispatch_seconds: int | None = None) -> None:
        """Queue `count` items (with no worker running yet) through the intake service. `dispatch_seconds`:
        the dispatch grace of their runs (how long a queued run waits before the reaper sends it again)."""
        script = ("from automations.execution.services import intake\nfrom portal.models import Tenant\n"
                  "from django.contrib.auth import get_user_model\n"
                  "t = Tenant.objects.get(slug='muster'); u = get_user_model().objects.get(username='it_operator')\n"
                  f"for n in range({count}):\n"
                  "    intake.work_item_create(actor=u, tenant=t, use_case_key='belege',\n"
                  "                            payload={'text': f'Rechnung Nr. {n}'})\n")
        env = self.env | ({"RUN_DISPATCH_SECONDS": str(dispatch_seconds)} if dispatch_seconds else {})
        done = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=900)
        if done.returncode:
            raise RuntimeError(done.stdout + done.stderr)

    def summary(self) -> dict:
        return json.loads(self._manage("-m", "tests.integration.embedded_site", "summary").strip().splitlines()[-1])

    def unsettled(self) -> int:
        out = self.database.psql("SELECT count(*) FROM automations_workitem WHERE status IN ('received', 'processing')",
                                 "leitplanke")
        return int(out.strip())

    def wait_settled(self, timeout: float) -> float:
        started = time.monotonic()
        while self.unsettled():
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{self.unsettled()} items still unsettled after {timeout:.0f} s")
            time.sleep(0.2)
        return time.monotonic() - started

    def start_hosts(self, count: int) -> list[Host]:
        hosts = self.hosts[:count]
        for host in hosts:
            host.start_worker(self._env(host.gateway), self.folder)
        deadline = time.monotonic() + 120
        for host in hosts:
            log = self.folder / f"{host.name}.log"
            while b" ready." not in log.read_bytes():
                if time.monotonic() > deadline or host.worker.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")[-3000:])
                time.sleep(0.2)
        return hosts

    def cut_off(self, pid: int) -> int:
        """Runs the worker process `pid` started and never finished (the test journal, worker_hooks.py)."""
        journal = self.folder / "journal.jsonl"
        entries = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
        mine = [e for e in entries if e["pid"] == pid and e["task"] == "automations.process_run"]
        started = {e["id"] for e in mine if e["event"] == "start"}
        return len(started - {e["id"] for e in mine if e["event"] == "end"})

    def check(self) -> dict:
        summary = self.summary()
        twice = [pk for pk, entry in summary.items() if entry["routed"] != 1]
        unsettled = [pk for pk, entry in summary.items() if entry["status"] in ("received", "processing")]
        verify = subprocess.run([PYTHON, "manage.py", "verify_audit"], cwd=ROOT, env=self.env, capture_output=True,
                                text=True)
        return {"items": len(summary), "routed_not_once": len(twice), "unsettled": len(unsettled),
                "audit_ok": verify.returncode == 0}


def run(*, hosts: list[int], items: int, delay: float, folder: Path, disappear: bool = True) -> dict:
    results: dict = {"delay_seconds": delay, "items": items, "throughput": {}, "checks": {}}
    with World(folder, max(max(hosts), 2), delay) as world:
        for count in hosts:
            world.queue(items)
            running = world.start_hosts(count)
            seconds = world.wait_settled(timeout=max(120.0, 4 * items * delay))
            for host in running:
                host.stop_worker()
            results["throughput"][count] = round(items / seconds, 2)
            results["checks"][f"{count} hosts"] = world.check()
        one = results["throughput"].get(1)
        results["speedup"] = {n: round(v / one, 2) for n, v in results["throughput"].items()} if one else {}
        if disappear:
            # A message the vanished host had taken but not yet started is its run's only copy until Redis's
            # visibility timeout: the reaper sends such a queued run again after its dispatch grace (five
            # minutes by default; 20 s here, so that the bench need not wait that long).
            world.queue(items, dispatch_seconds=20)
            first, second = world.start_hosts(2)
            deadline = time.monotonic() + 120
            while world.unsettled() > items * 0.8 and time.monotonic() < deadline:
                time.sleep(0.1)  # both busy, in the middle of their tasks
            in_flight = world.unsettled()
            victim = first.worker.pid
            first.disappear()
            seconds = world.wait_settled(timeout=max(180.0, 4 * items * delay))
            second.stop_worker()
            results["host_disappeared"] = {"unsettled_when_it_went": in_flight,
                                           "tasks_cut_off": world.cut_off(victim),
                                           "settled_after_seconds": round(seconds, 1), **world.check()}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="1,2,3")
    parser.add_argument("--items", type=int, default=240)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("network namespaces need root")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lp-scaleout-") as folder:
        results = run(hosts=[int(h) for h in args.hosts.split(",")], items=args.items, delay=args.delay,
                      folder=Path(folder))
    print(f"{'hosts':>5}  {'items/s':>8}  {'speed-up':>8}")
    for count, rate in results["throughput"].items():
        print(f"{count:>5}  {rate:>8.2f}  {results['speedup'].get(count, 0):>8.2f}")
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
