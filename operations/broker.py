"""The embedded default's broker: kombu's filesystem transport, made safe against half-written messages.

kombu's own transport writes a message straight into the queue folder under its final name (open, lock, write)
and its reader takes whatever file it lists without the lock (move, read, parse). A reader that lists the file
between the writer's open and its last write reads an empty or cut message, fails to parse it and the worker
stops with an unrecoverable error — the message, already moved out of the queue, is gone (celery/kombu#1551).

Here a message is written under a hidden temporary name in the queue folder and renamed into place
(`os.replace`): a reader sees a message file only when it is complete. The reader claims a message by renaming
it within the same folder (atomic, so exactly one consumer of any process on the host takes it), reads it under
a shared lock and parses it; a file that is still being written (a writer of kombu's own transport holding its
lock, or a file that is not yet whole JSON) is put back under its name and tried again at the next poll, so it is
neither lost nor delivered twice. A file that stays unreadable for `damaged_after` seconds is moved to
`<control_folder>/damaged/` and logged, never raised into the worker. A claim left behind by a consumer that died
between its claim and its read goes back into the queue (that consumer never handed the message on).

Registered as the transport alias `leitplanke-filesystem` (portal/celery.py) and chosen by the settings whenever
the broker URL is `filesystem://`; its transport options are kombu's."""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
import uuid
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

ALIAS = "leitplanke-filesystem"
DAMAGED_AFTER_SECONDS = 60.0
_TEMPORARY, _CLAIMED = ".tmp", ".claimed"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(hidden_name: str) -> int | None:
    """The process id in a hidden name `.<message>.<pid>.claimed` / `.tmp`, or None."""
    try:
        return int(hidden_name.rsplit(".", 2)[-2])
    except (IndexError, ValueError):
        return None


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic writes and a reader that never takes a message it cannot read."""

    @property
    def damaged_after(self) -> float:
        return float(self.transport_options.get("damaged_after", DAMAGED_AFTER_SECONDS))

    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: written under a hidden name, renamed into place once complete."""
        name = f"{time.time_ns():020d}_{uuid.uuid4()}.{queue}.msg"  # fixed width: sorting by name is by time
        folder = self.data_folder_out
        temporary = os.path.join(folder, f".{name}.{os.getpid()}{_TEMPORARY}")
        try:
            with open(temporary, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, os.path.join(folder, name))
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue):
        """Get the oldest readable message of `queue`; a message file not yet complete stays where it is."""
        wanted = f"{queue}.msg"
        folder = self.data_folder_in
        names = sorted(os.listdir(folder))
        for name in names:
            if name.startswith("."):
                self._restore_orphan(folder, name)
                continue
            if name.partition(".")[2] != wanted:
                continue
            path = os.path.join(folder, name)
            claimed = os.path.join(folder, f".{name}.{os.getpid()}{_CLAIMED}")
            try:
                os.rename(path, claimed)  # atomic within one folder: only one consumer wins
            except OSError:
                continue  # taken by another consumer in the meantime
            payload = self._read(claimed)
            if payload is None:
                self._put_back(claimed, path, name)
                continue
            self._done(claimed, name)
            return payload
        raise Empty()

    def _read(self, claimed: str):
        """The parsed message, or None while its writer holds the lock or the file is not whole JSON."""
        try:
            with open(claimed, "rb") as file:
                try:
                    fcntl.flock(file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    return None  # a writer (kombu's own transport) is still writing it
                try:
                    data = file.read()
                finally:
                    fcntl.flock(file.fileno(), fcntl.LOCK_UN)
        except OSError as exc:
            raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
        try:
            return loads(bytes_to_str(data))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError: cut short, or not yet written at all
            return None

    def _put_back(self, claimed: str, path: str, name: str) -> None:
        """Return an unreadable message to the queue under its own name (its place in the order kept) — or, once
        it has stayed unreadable longer than any writer takes, set it aside where a person can look at it."""
        try:
            age = time.time() - os.stat(claimed).st_mtime
            if age < self.damaged_after:
                os.rename(claimed, path)
                return
            damaged = os.path.join(self.control_folder, "damaged")
            os.makedirs(damaged, exist_ok=True)
            os.rename(claimed, os.path.join(damaged, name))
        except OSError as exc:
            raise ChannelError(f"Cannot return file {name!r} to the queue.") from exc
        logger.error("broker.message_damaged", extra={"file": name, "folder": damaged, "age_seconds": round(age)})

    def _done(self, claimed: str, name: str) -> None:
        if self.store_processed:
            shutil.move(claimed, os.path.join(self.processed_folder, name))
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(claimed)

    def _restore_orphan(self, folder: str, hidden: str) -> None:
        """A claim or temporary file of a process that no longer runs: a claim goes back into the queue (its
        consumer died before it read the message, so never handed it on); a temporary file is removed (its
        writer died before the message was complete, so its sender got no confirmation of the send)."""
        owner = _owner(hidden)
        if owner is None or owner == os.getpid() or _process_alive(owner):
            return
        path = os.path.join(folder, hidden)
        with contextlib.suppress(FileNotFoundError):
            if hidden.endswith(_CLAIMED):
                message = hidden[1:].rsplit(".", 2)[0]
                os.rename(path, os.path.join(folder, message))
                logger.warning("broker.claim_restored", extra={"file": message, "pid": owner})
            elif hidden.endswith(_TEMPORARY):
                os.remove(path)


class Transport(filesystem.Transport):
    Channel = Channel
