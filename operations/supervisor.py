"""A small process supervisor for the embedded default (`manage.py quickstart`): it starts the web server, the
workers and beat as child processes, each in a process group of its own, restarts a child that stopped with
a growing pause (1, 2, 4 … 30 s; back to 1 s once a child ran for a minute) and says so, and on Ctrl-C stops
them all: SIGTERM to each group, a grace period, SIGKILL for whatever is left. In production systemd does
this job (deploy/systemd/)."""
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

GRACE_SECONDS = 10
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
STABLE_SECONDS = 60.0


def die_with_parent() -> None:
    """Runs in the child before exec: if the supervisor itself is killed (kill -9), the kernel sends the child
    SIGTERM, so nothing is left running unsupervised. Linux only; elsewhere a no-op."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Child:
    label: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    pause: float = 0.0
    due: float | None = None  # when a stopped child is started again
    exits: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(self, children: list[Child], *, env: dict, cwd, say: Callable[[str], None],
                 on_exit: Callable[[Child, int], None] | None = None, messages: dict[str, str] | None = None):
        self.children, self.env, self.cwd, self.say, self.on_exit = children, env, cwd, say, on_exit
        self.messages = messages or {}

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, cwd=self.cwd, env=self.env, start_new_session=True,
                                         preexec_fn=die_with_parent)
        child.started_at, child.due = time.monotonic(), None

    def start_all(self) -> None:
        for child in self.children:
            self._start(child)

    def poll(self) -> None:
        """One round: notice children that stopped, and start those whose pause is over."""
        now = time.monotonic()
        for child in self.children:
            if child.due is not None:
                if now >= child.due:
                    self._start(child)
                    child.restarts += 1
                    self.say(self.messages.get("restarted", "Restarted the {what}.").format(what=child.label))
                continue
            if child.process is None:
                continue  # never started
            code = child.process.poll()
            if code is None:
                continue
            signal_group(child.process, signal.SIGKILL)  # whatever the leader left behind (pool processes)
            child.exits.append(code)
            ran = now - child.started_at
            child.pause = BACKOFF_FIRST if ran >= STABLE_SECONDS or not child.pause else min(BACKOFF_MAX,
                                                                                               child.pause * 2)
            child.due = now + child.pause
            self.say(self.messages.get(
                "stopped", "The {what} stopped unexpectedly (exit code {code}); restarting it in {seconds:g} s.")
                .format(what=child.label, code=code, seconds=child.pause))
            if self.on_exit is not None:
                self.on_exit(child, code)

    def running(self) -> list[Child]:
        return [c for c in self.children if c.process is not None]

    def stop(self, received: list[int]) -> None:
        started = [(child, child.process) for child in self.children if child.process is not None]
        for _child, process in started:
            signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        signals_at_start = len(received)
        # A second Ctrl-C skips the grace period.
        while time.monotonic() < deadline and len(received) == signals_at_start:
            if all(process.poll() is not None for _child, process in started):
                break
            time.sleep(0.1)
        for child, process in started:
            if process.poll() is None:
                self.say(self.messages.get("killed", "The {what} did not stop within {seconds} s; killing it.")
                         .format(what=child.label, seconds=GRACE_SECONDS))
            signal_group(process, signal.SIGKILL)
            process.wait()
