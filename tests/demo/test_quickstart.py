"""`manage.py quickstart` as a new user runs it: a fresh var/ folder, SQLite and the filesystem broker,
real child processes (DESIGN.md, "Running it" and "Contracts")."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from demo import seed as demo

pytestmark = pytest.mark.integration

MANAGE = str(settings.BASE_DIR / "manage.py")
# Whatever configures the surrounding test run must not reach the embedded default.
_ISOLATE = ("PORTAL_ENV", "DEBUG", "SECRET_KEY", "DATABASE_URL", "DATABASE_ADMIN_URL", "CELERY_BROKER_URL",
            "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER", "PORTAL_MEDIA_ROOT", "BROKER_URL",
            "RESULT_BACKEND", "APP", "DJANGO_SETTINGS_MODULE",
            # Set by the browser tests for their live server; check --deploy rightly rejects it.
            "DJANGO_ALLOW_ASYNC_UNSAFE")
DEMO_USERNAMES = ["admin", "automation_lead", "department_owner", "it_operator", "security_officer",
                  "data_protection_officer", "works_council", "clerk", "auditor", "automation_lead_2", "clerk_2",
                  "clerk_kundenservice"]


def embedded_env(var_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env["PORTAL_VAR_DIR"] = str(var_dir)
    return env


def quickstart(env, *args, **kwargs):
    return subprocess.run([sys.executable, MANAGE, "quickstart", *args], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=300, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> dict[int, str]:
    """pid -> command line of the direct children of pid (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


def processes_with_var_dir(var_dir: Path) -> list[int]:
    """Every process whose environment names this var/ folder: quickstart and all it started."""
    marker = f"PORTAL_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return state != "Z"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def login_page_answers(qs: subprocess.Popen, port: int) -> bool:
    if qs.poll() is not None:
        raise AssertionError(f"quickstart exited early with {qs.returncode}")
    return http_status(f"http://127.0.0.1:{port}/login/") == 200


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return None


@pytest.fixture
def prepared(quickstart_pristine, quickstart_var):
    """The test's own copy of a var/ folder after `quickstart --no-serve` ran twice, with both runs' results;
    the serving tests are then the third run on it."""
    _pristine, first, second = quickstart_pristine
    return quickstart_var, embedded_env(quickstart_var), first, second


def test_no_serve_sets_up_and_running_it_again_is_safe(prepared):
    var_dir, _env, first, second = prepared
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert (var_dir / "leitplanke.sqlite3").exists()
    assert (var_dir / "celery" / "queue").is_dir()

    db = sqlite3.connect(var_dir / "leitplanke.sqlite3")
    users = dict(db.execute("SELECT username, COUNT(*) FROM auth_user GROUP BY username").fetchall())
    assert users == dict.fromkeys(DEMO_USERNAMES, 1)
    assert db.execute("SELECT slug, name FROM portal_tenant").fetchall() == [("muster", "Muster GmbH")]
    memberships = db.execute(
        "SELECT u.username, m.roles FROM portal_membership m JOIN auth_user u ON u.id = m.user_id"
    ).fetchall()
    assert len(memberships) == len(DEMO_USERNAMES) - 1  # admin is a superuser, in no tenant
    roles = dict(memberships)
    assert roles["automation_lead_2"] == '["automation_lead"]' and roles["clerk_2"] == '["clerk"]'
    assert db.execute("SELECT is_superuser FROM auth_user WHERE username = 'admin'").fetchone() == (1,)
    # The second run wrote nothing: every creation is in the audit chain exactly once.
    counts = dict(db.execute("SELECT event_type, COUNT(*) FROM audit_auditevent GROUP BY event_type").fetchall())
    assert counts["tenant.created"] == 1
    assert counts["user.created"] == len(DEMO_USERNAMES)
    assert counts["membership.created"] == len(DEMO_USERNAMES) - 1

    # Both runs print the same log-ins, each with the documented password.
    def logins(output):
        return [line.split() for line in output.splitlines() if line.split()[:1] and line.split()[0] in DEMO_USERNAMES]

    assert logins(first.stdout) == logins(second.stdout)
    assert [row[:2] for row in logins(first.stdout)] == [[name, demo.DEMO_PASSWORD] for name in DEMO_USERNAMES]


def test_demo_password_logs_in(prepared):
    _var_dir, env, *_ = prepared
    check = subprocess.run(
        [sys.executable, MANAGE, "shell", "-c",
         ("from django.contrib.auth import authenticate; "
          f"print(all(authenticate(username=u, password={demo.DEMO_PASSWORD!r}) for u in {DEMO_USERNAMES!r}))")],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )
    assert check.stdout.strip().splitlines()[-1] == "True", check.stderr


def test_serves_with_a_consuming_worker_and_beat_and_ctrl_c_stops_everything(prepared, tmp_path):
    var_dir, env, *_ = prepared
    port = free_port()
    log = (tmp_path / "quickstart.log").open("w")
    qs = subprocess.Popen([sys.executable, MANAGE, "quickstart", "--port", str(port)], env=env,
                          cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: login_page_answers(qs, port), 90, "the login page")
        children = children_of(qs.pid)
        kinds = sorted("runserver" if "runserver" in c else "maintenance" if "--queues maintenance" in c else
                       "worker" if " worker " in c else "beat" if " beat " in c else c for c in children.values())
        assert kinds == ["beat", "maintenance", "runserver", "worker"]
        for pid in children:
            assert os.getpgid(pid) == pid  # its own process group: Ctrl-C in a terminal reaches quickstart only
        worker_pid = next(pid for pid, c in children.items() if " worker " in c and "--queues celery" in c)

        # The worker really consumes: a task sent now is run by that very process.
        ping = subprocess.run([sys.executable, MANAGE, "ping_worker", "--timeout", "60"], env=env,
                              cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
        assert ping.returncode == 0, ping.stderr
        assert f"pong from worker pid {worker_pid} " in ping.stdout
        wait_for(lambda: list((var_dir / "celery").glob("beat-schedule*")), 30, "beat's schedule file")

        qs.send_signal(signal.SIGINT)
        assert qs.wait(timeout=30) == 0
    finally:
        if qs.poll() is None:
            qs.kill()
        log.close()
    output = (tmp_path / "quickstart.log").read_text()
    assert f"http://127.0.0.1:{port}/" in output
    assert "Stopped." in output
    assert not [pid for pid in children if alive(pid)]
    assert processes_with_var_dir(var_dir) == []
    assert http_status(f"http://127.0.0.1:{port}/login/") is None


def test_a_killed_worker_is_restarted_and_the_items_it_held_are_finished(prepared, tmp_path):
    """kill -9 of the pipeline worker in the middle of its items: quickstart says so, starts it again after
    a pause, hands the runs the dead worker held to the reaper at once (the embedded broker lost their
    messages), and every item reaches its outcome; web server, beat and the maintenance worker go on."""
    import json
    import urllib.request

    var_dir, env, *_ = prepared
    port = free_port()
    log_path = tmp_path / "quickstart.log"
    log = log_path.open("w")
    qs = subprocess.Popen([sys.executable, MANAGE, "quickstart", "--port", str(port)], env=env,
                          cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: login_page_answers(qs, port), 90, "the login page")
        # The first serve works off what the demo seed queued (threshold backtests, held items) before our items.
        queue = var_dir / "celery" / "queue"
        wait_for(lambda: not any(queue.iterdir()), 120, "the worker to take the tasks the demo seed queued")
        token = subprocess.run([sys.executable, MANAGE, "create_api_token", "it_operator", "--tenant", "muster"],
                               env=env, cwd=settings.BASE_DIR, capture_output=True, text=True,
                               timeout=120).stdout.strip().splitlines()[-1]

        def call(method, path, body=None):
            request = urllib.request.Request(base + path, method=method,
                                             data=json.dumps(body).encode() if body else None,
                                             headers={"Authorization": f"Bearer {token}",
                                                      "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())

        children = children_of(qs.pid)
        others = {pid for pid, c in children.items() if "--queues celery" not in c}
        worker_pid = next(pid for pid, c in children.items() if "--queues celery" in c)
        items = [call("POST", "/api/v1/work-items/", {"use_case": "belegklassifizierung",
                                                      "payload": {"text": f"Rechnung Nr. {n} über 100 Euro"}})["id"]
                 for n in range(6)]

        def status(pk):
            return call("GET", f"/api/v1/work-items/{pk}/")["status"]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "processing" not in {status(pk) for pk in items}:
            time.sleep(0.05)
        os.kill(worker_pid, signal.SIGKILL)

        def restarted():
            new = [pid for pid, c in children_of(qs.pid).items() if "--queues celery" in c and pid != worker_pid]
            return new[0] if new else None

        new_pid = wait_for(restarted, 60, "a new pipeline worker")
        wait_for(lambda: not {status(pk) for pk in items} & {"received", "processing"}, 120,
                 "every item to reach its outcome")
        assert {status(pk) for pk in items} <= {"applied", "review", "clarification"}
        assert others <= set(children_of(qs.pid))  # web server, beat and the maintenance worker went on
        ping = subprocess.run([sys.executable, MANAGE, "ping_worker", "--timeout", "60"], env=env,
                              cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
        assert f"pong from worker pid {new_pid} " in ping.stdout, ping.stdout + ping.stderr
        qs.send_signal(signal.SIGINT)
        assert qs.wait(timeout=30) == 0
    finally:
        if qs.poll() is None:
            qs.kill()
        log.close()
    output = log_path.read_text()
    assert "The Celery worker stopped unexpectedly (exit code -9); restarting it in 1 s." in output, output[-3000:]
    assert "Restarted the Celery worker." in output
    assert processes_with_var_dir(var_dir) == []


def test_a_busy_port_is_refused_before_anything_starts(prepared):
    var_dir, env, *_ = prepared
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = quickstart(env, "--port", str(busy.getsockname()[1]))
    assert result.returncode == 1
    assert "Cannot serve on 127.0.0.1:" in result.stderr and "--port" in result.stderr
    assert processes_with_var_dir(var_dir) == []
