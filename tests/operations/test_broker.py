"""The embedded broker (operations/broker.py): a message file is only ever seen complete, a half-written one is
left in the queue until it is complete (never raised into the worker, never lost), and every message is taken
by exactly one consumer."""
import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from operations import broker


def _options(root: Path, *, queue_folder: Path | None = None) -> dict:
    queue_folder = queue_folder or root / "queue"
    for folder in (queue_folder, root / "control", root / "processed"):
        folder.mkdir(parents=True, exist_ok=True)
    return {"data_folder_in": str(queue_folder), "data_folder_out": str(queue_folder),
            "control_folder": str(root / "control"), "processed_folder": str(root / "processed"),
            "store_processed": False}


@pytest.fixture
def folders(tmp_path):
    return _options(tmp_path)


@pytest.fixture
def channel(folders):
    connection = Connection("filesystem://", transport=broker.Transport, transport_options=folders)
    yield connection.channel()
    connection.release()


def _messages(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".msg") and not name.startswith("."))


def _written_message(tmp_path, payload: dict) -> tuple[str, bytes]:
    """The file name and bytes a writer produces for `payload` (written by the transport into a folder aside)."""
    aside = _options(tmp_path / "aside")
    with Connection("filesystem://", transport=broker.Transport, transport_options=aside) as connection:
        connection.channel()._put("jobs", payload)
    [name] = _messages(aside["data_folder_in"])
    return name, (Path(aside["data_folder_in"]) / name).read_bytes()


def test_the_settings_choose_this_transport_for_the_filesystem_broker(settings):
    from kombu.transport import resolve_transport

    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        assert settings.CELERY_BROKER_TRANSPORT == broker.ALIAS
    assert resolve_transport(broker.ALIAS) is broker.Transport


def test_a_message_appears_in_the_queue_only_once_it_is_complete(channel, folders, monkeypatch):
    seen_while_writing = []
    replace = os.replace

    def paused_before_rename(source, target):
        # The writer has written everything but not yet renamed: a reader finds nothing to take.
        seen_while_writing.append((_messages(folders["data_folder_in"]), Path(source).name))
        with pytest.raises(Empty):
            channel._get("jobs")
        replace(source, target)

    monkeypatch.setattr(broker.os, "replace", paused_before_rename)
    channel._put("jobs", {"body": "eins"})
    [(listed, temporary)] = seen_while_writing
    assert listed == [] and temporary.startswith(".") and temporary.endswith(".tmp")
    assert channel._get("jobs") == {"body": "eins"}
    assert os.listdir(folders["data_folder_in"]) == []


def test_a_half_written_message_waits_in_the_queue_and_is_delivered_once_complete(channel, folders, tmp_path):
    name, content = _written_message(tmp_path, {"body": "zwei", "headers": {"task": "demo"}})
    path = Path(folders["data_folder_in"]) / name
    path.write_bytes(content[: len(content) // 2])  # the writer paused mid-write

    with pytest.raises(Empty):
        channel._get("jobs")
    assert _messages(folders["data_folder_in"]) == [name]  # put back under its own name, nothing lost

    with open(path, "ab") as file:  # the writer goes on
        file.write(content[len(content) // 2:])
    assert channel._get("jobs") == {"body": "zwei", "headers": {"task": "demo"}}
    with pytest.raises(Empty):
        channel._get("jobs")  # delivered once
    assert os.listdir(folders["data_folder_in"]) == []


def test_an_empty_message_file_just_created_is_not_taken(channel, folders, tmp_path):
    name, content = _written_message(tmp_path, {"body": "drei"})
    path = Path(folders["data_folder_in"]) / name
    path.touch()  # kombu's own writer between its open() and its write()
    with pytest.raises(Empty):
        channel._get("jobs")
    path.write_bytes(content)
    assert channel._get("jobs") == {"body": "drei"}


def test_a_message_locked_by_a_writer_of_kombus_own_transport_is_left_until_it_lets_go(channel, folders, tmp_path):
    name, content = _written_message(tmp_path, {"body": "vier"})
    with open(Path(folders["data_folder_in"]) / name, "wb", buffering=0) as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # as kombu's filesystem transport writes
        file.write(content)
        with pytest.raises(Empty):
            channel._get("jobs")
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
    assert channel._get("jobs") == {"body": "vier"}


def test_the_messages_behind_a_half_written_one_are_delivered_meanwhile(channel, folders, tmp_path):
    name, content = _written_message(tmp_path, {"body": "first"})
    (Path(folders["data_folder_in"]) / name).write_bytes(content[:10])
    time.sleep(0.002)  # a later millisecond in the name: sorted after the half-written one
    channel._put("jobs", {"body": "second"})
    assert channel._get("jobs") == {"body": "second"}
    assert _messages(folders["data_folder_in"]) == [name]


def test_a_file_that_stays_unreadable_is_set_aside_and_logged_not_raised(channel, folders, caplog):
    path = Path(folders["data_folder_in"]) / f"{1:020d}_abc.jobs.msg"  # older than any message put now
    path.write_bytes(b'{"body": "cut sh')
    old = time.time() - broker.DAMAGED_AFTER_SECONDS - 5
    os.utime(path, (old, old))
    channel._put("jobs", {"body": "fine"})

    with caplog.at_level(logging.ERROR, logger="operations.broker"):
        assert channel._get("jobs") == {"body": "fine"}
    damaged = Path(folders["control_folder"]) / "damaged" / path.name
    assert damaged.read_bytes() == b'{"body": "cut sh'
    assert [record.getMessage() for record in caplog.records] == ["broker.message_damaged"]
    assert os.listdir(folders["data_folder_in"]) == []


def test_messages_are_taken_in_the_order_they_were_put_whatever_the_clock_reads(channel, monkeypatch):
    # names sort as text: a clock reading with one digit more must still sort after the one before it
    for reading, body in [(999_999_999, "first"), (1_000_000_000, "second"), (10_000_000_000, "third")]:
        monkeypatch.setattr(time, "time_ns", lambda reading=reading: reading)
        channel._put("jobs", {"body": body})
    monkeypatch.undo()
    assert [channel._get("jobs")["body"] for _ in range(3)] == ["first", "second", "third"]


def test_a_claim_left_by_a_consumer_that_died_goes_back_into_the_queue(channel, folders, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    name, content = _written_message(tmp_path, {"body": "fünf"})
    queue = Path(folders["data_folder_in"])
    (queue / f".{name}.{pid}.claimed").write_bytes(content)
    (queue / f".9_x.jobs.msg.{pid}.tmp").write_bytes(content[:5])  # a writer that died mid-write
    ours = queue / f".9_y.jobs.msg.{os.getpid()}.tmp"
    ours.write_bytes(b"{")  # a live writer's file is left alone

    with pytest.raises(Empty):
        channel._get("jobs")  # this listing restores the claim; the next one takes it
    assert channel._get("jobs") == {"body": "fünf"}
    with pytest.raises(Empty):
        channel._get("jobs")
    assert os.listdir(queue) == [ours.name]


def test_two_consumers_take_every_message_exactly_once(folders):
    with Connection("filesystem://", transport=broker.Transport, transport_options=folders) as producer:
        channel = producer.channel()
        for number in range(300):
            channel._put("jobs", {"n": number})

    taken: list[list[int]] = [[], []]

    def consume(index: int) -> None:
        with Connection("filesystem://", transport=broker.Transport, transport_options=folders) as connection:
            mine = connection.channel()
            while True:
                try:
                    taken[index].append(mine._get("jobs")["n"])
                except Empty:
                    return

    threads = [threading.Thread(target=consume, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken[0] + taken[1]) == list(range(300))


def test_a_message_sent_and_consumed_through_kombu(folders):
    with Connection("filesystem://", transport=broker.Transport, transport_options=folders) as connection:
        queue = connection.SimpleQueue("jobs")
        queue.put({"text": "Rechnung"})
        message = queue.get(timeout=5)
        assert message.payload == {"text": "Rechnung"}
        message.ack()
        queue.close()
