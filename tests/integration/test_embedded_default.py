"""The embedded default (DESIGN.md, "Running it"): no configuration, so SQLite under var/ and kombu's
filesystem broker under var/, with a real worker process and the portal served over HTTP by its own
process. An item posted through the API reaches a final status; a worker killed in the middle of a task
loses its message with this broker, and the lease reaper brings the item home."""
import json
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests
from django.conf import settings

from tests.integration.conftest import STRAY, Worker, wait_until

pytestmark = pytest.mark.integration

BASE_DIR = settings.BASE_DIR
LEASE_SECONDS = 3
DELAY = 1.5
STEPS = ["read", "extract", "check", "decide", "validate", "guard", "route", "deliver"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(tmp_path, migrated_var):
    """Environment of an embedded installation in a fresh var/ folder, migrated and set up."""
    var = migrated_var
    env = {key: value for key, value in os.environ.items()
           if key not in STRAY + ("PORTAL_ENV", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env |= {"PORTAL_VAR_DIR": str(var), "RUN_LEASE_SECONDS": str(LEASE_SECONDS),
            "RUN_DISPATCH_SECONDS": str(LEASE_SECONDS), "LEITPLANKE_TEST_JOURNAL": str(tmp_path / "journal.jsonl")}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    facts = json.loads(run("-m", "tests.integration.embedded_site", "setup", str(DELAY)).splitlines()[-1])
    assert facts["vendor"] == "sqlite" and facts["database"] == str(var / "leitplanke.sqlite3")
    assert facts["broker"] == "filesystem://"
    return {"env": env, "run": run, "token": facts["token"], "folder": tmp_path, "var": var}


@pytest.fixture
def server(site):
    """`manage.py runserver` as its own process (no autoreloader), stopped with its process group."""
    port = free_port()
    log = open(site["folder"] / "server.log", "wb")
    process = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                               cwd=BASE_DIR, env=site["env"], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        def answers():
            assert process.poll() is None, (site["folder"] / "server.log").read_text()
            try:
                return requests.get(url + "/api/v1/me/", timeout=2).status_code == 401
            except requests.ConnectionError:
                return False

        wait_until(answers, timeout=60, interval=0.2, what="the server to answer")
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


@pytest.fixture
def embedded_worker(site):
    folder = site["folder"] / "worker"
    folder.mkdir()
    worker = Worker(site["env"], folder)
    try:
        yield worker
    finally:
        worker.stop()


def test_an_item_posted_through_the_api_reaches_a_final_status_and_survives_a_killed_worker(
        site, server, embedded_worker):
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {site['token']}", "Accept-Language": "en"})
    worker = embedded_worker.start()
    assert "filesystem://" in worker.log.read_text()

    def post(text: str) -> str:
        response = session.post(server + "/api/v1/work-items/", json={"use_case": "belege", "payload": {"text": text}},
                                timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def item(pk: str) -> dict:
        response = session.get(f"{server}/api/v1/work-items/{pk}/", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    first = post("Rechnung, Rechnungsnummer 1")
    wait_until(lambda: item(first)["status"] == "applied", timeout=60, interval=0.3, what="the item to be applied")
    assert item(first)["fields"] == {"document_class": {"value": "invoice", "confidence": 0.75}}

    # The filesystem broker hands the message over when the worker takes it: a kill -9 loses it.
    second = post("Rechnung, Rechnungsnummer 2")
    wait_until(lambda: worker.current_run() is not None and item(second)["status"] == "processing", timeout=30,
               interval=0.05, what="the worker to be in the middle of the second item")
    worker.kill()
    worker.start()
    site["run"]("manage.py", "ping_worker", "--timeout", "60")  # the restarted worker has taken all there is
    assert item(second)["status"] == "processing"  # nothing brings it back by itself ...
    # ... but the reaper does, once the run's lease has expired.
    wait_until(lambda: site["run"]("-m", "tests.integration.embedded_site", "reap").strip() == "1",
               timeout=LEASE_SECONDS + 60, interval=0.5, what="the reaper to send the run once its lease expired")
    wait_until(lambda: item(second)["status"] == "applied", timeout=60, interval=0.3,
               what="the second item to be applied after the reaper")

    report = json.loads(site["run"]("-m", "tests.integration.embedded_site", "report", second))
    assert report["routed"] == 1 and report["reaped"] == 1
    assert [(run["status"], run["attempt"], run["trigger"]) for run in report["runs"]] == [("succeeded", 2, "reaper")]
    assert report["runs"][0]["steps"] == STEPS
    assert (site["var"] / "leitplanke.sqlite3").exists() and (site["var"] / "celery" / "queue").is_dir()


def test_a_half_written_message_neither_stops_the_worker_nor_is_lost(site, server, embedded_worker):
    """kombu's own filesystem transport let a worker read a message file its writer had not finished: the worker
    stopped with an unrecoverable JSON error and the message was gone (celery/kombu#1551). The writer here is
    paused in the middle of the message; the worker goes on with other work and takes the message once whole."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {site['token']}", "Accept-Language": "en"})
    response = session.post(server + "/api/v1/work-items/", json={"use_case": "belege",
                                                                   "payload": {"text": "Rechnung, Nummer 3"}},
                            timeout=30)
    assert response.status_code == 201, response.text
    pk = response.json()["id"]
    queue = site["var"] / "celery" / "queue"
    [message] = [path for path in queue.iterdir()
                 if json.loads(path.read_bytes())["headers"]["task"] == "automations.process_run"]
    content = message.read_bytes()
    message.write_bytes(content[: len(content) // 2])  # the writer, paused mid-write

    worker = embedded_worker.start()
    site["run"]("manage.py", "ping_worker", "--timeout", "60")  # sent after it, run while it waits
    assert worker.process.poll() is None, worker.log.read_text()
    assert message.exists() and json.loads(site["run"]("-m", "tests.integration.embedded_site", "report",
                                                       pk))["status"] == "received"

    with open(message, "ab") as file:  # the writer goes on
        file.write(content[len(content) // 2:])
    wait_until(lambda: json.loads(site["run"]("-m", "tests.integration.embedded_site", "report", pk))["status"]
               == "applied", timeout=60, interval=0.5, what="the item to be applied once its message is whole")
    report = json.loads(site["run"]("-m", "tests.integration.embedded_site", "report", pk))
    assert report["routed"] == 1
    assert [(run["status"], run["attempt"]) for run in report["runs"]] == [("succeeded", 1)]
    assert worker.process.poll() is None and "Unrecoverable error" not in worker.log.read_text()
