"""Watched folders (scanner, DMS export): polled by beat, not watched through inotify, so that network
shares work. A file is taken only when it is complete: names ending in `.part` and dot-files are skipped,
and its size and modification time must have stayed the same for FOLDER_STABLE_SECONDS and while it was
read. A taken file becomes a work item with source `folder` and moves to `processed/<YYYY-MM-DD>/`; one that
cannot become an item moves to `failed/` with `<name>.reason.txt` beside it.

The embedded default watches `<PORTAL_VAR_DIR>/inbox/<tenant slug>/<use case key>/` (FOLDER_INBOX_DIR);
folder intake connectors of the catalogue (type `folder`, direction intake, the folder as their target)
feed the use cases that name them.

A crash between creating the item and moving the file creates no duplicate: the item's idempotency key is
derived from the file's name, size, modification time and content, so the next poll finds the same item
and moves the file."""
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import SYSTEM
from automations.choices import ConnectorType, ItemSource
from automations.connectors.selectors import intake_connectors
from automations.execution.services import intake
from automations.registry.models.use_cases import UseCase
from portal.models import Tenant

logger = logging.getLogger(__name__)

PROCESSED, FAILED = "processed", "failed"


@dataclass
class FolderResult:
    taken: int = 0
    failed: int = 0
    waiting: int = 0


def inbox_root() -> Path | None:
    root = getattr(settings, "FOLDER_INBOX_DIR", None)
    return Path(root) if root else None


def inbox_folder(*, tenant, use_case) -> Path | None:
    root = inbox_root()
    return root / tenant.slug / use_case.key if root else None


def inbox_folders_ensure(*, tenant) -> list[Path]:
    """The inbox folder of every use case of the tenant that accepts work (quickstart)."""
    made = []
    for use_case in UseCase.objects.for_tenant(tenant).exclude(status__in=("draft", "retired")).order_by("key"):
        folder = inbox_folder(tenant=tenant, use_case=use_case)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            made.append(folder)
    return made


def _candidate(path: Path) -> bool:
    name = path.name
    return path.is_file() and not name.startswith(".") and not name.endswith(".part")


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target = folder / f"{stem}-{n}{dot}{suffix}"
        n += 1
    return target


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    path.rename(target)  # the same file system: atomic
    return target


def _fail(path: Path, base: Path, reason: str) -> None:
    target = _move(path, base / FAILED)
    target.with_name(target.name + ".reason.txt").write_text(reason.strip() + "\n", encoding="utf-8")
    logger.info("Watched folder: %s failed: %s", path, reason)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or type(exc).__name__


def folder_take(*, path: Path, base: Path, tenant, use_case_key: str, stable_seconds: float, now: float) -> str:
    """One file: "taken", "failed", or "waiting" (not complete yet)."""
    try:
        before = path.stat()
    except FileNotFoundError:
        return "gone"
    if now - before.st_mtime < stable_seconds:
        return "waiting"
    if before.st_size > settings.UPLOAD_MAX_FILE_BYTES:
        _fail(path, base, _("%(name)s is larger than %(limit)s MB.")
              % {"name": path.name, "limit": settings.UPLOAD_MAX_FILE_BYTES // (1024 * 1024)})
        return "failed"
    data = path.read_bytes()
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(data) != after.st_size:
        return "waiting"  # still being written
    digest = hashlib.sha256(f"{path.name}\0{after.st_size}\0{after.st_mtime_ns}\0".encode() + data).hexdigest()
    try:
        intake.work_item_create(actor=SYSTEM, tenant=tenant, use_case_key=use_case_key,
                                files=[SimpleUploadedFile(path.name, data)], idempotency_key=f"folder:{digest}",
                                external_id=path.name, source=ItemSource.FOLDER)
    except (ValidationError, PermissionDenied) as exc:
        _fail(path, base, _reason(exc))
        return "failed"
    _move(path, base / PROCESSED / timezone.localdate().isoformat())
    return "taken"


def folder_poll(*, folder: Path, tenant, use_case_key: str, now: float | None = None) -> FolderResult:
    """Take every complete file directly in `folder` (sub-folders such as processed/ are not looked into)."""
    result = FolderResult()
    if not folder.is_dir():
        return result
    now = time.time() if now is None else now
    stable = float(settings.FOLDER_STABLE_SECONDS)
    for path in sorted(p for p in folder.iterdir() if _candidate(p)):
        outcome = folder_take(path=path, base=folder, tenant=tenant, use_case_key=use_case_key,
                              stable_seconds=stable, now=now)
        if outcome == "taken":
            result.taken += 1
        elif outcome == "failed":
            result.failed += 1
        elif outcome == "waiting":
            result.waiting += 1
    return result


def folders_poll(*, now: float | None = None) -> FolderResult:
    """Beat: the inbox folders of every tenant and use case, and every folder intake connector."""
    total = FolderResult()

    def add(result: FolderResult) -> None:
        total.taken += result.taken
        total.failed += result.failed
        total.waiting += result.waiting

    root = inbox_root()
    if root is not None and root.is_dir():
        tenants = {t.slug: t for t in Tenant.objects.filter(slug__in=[p.name for p in root.iterdir() if p.is_dir()])}
        for slug, tenant in sorted(tenants.items()):
            keys = set(UseCase.objects.for_tenant(tenant).values_list("key", flat=True))
            for folder in sorted(p for p in (root / slug).iterdir() if p.is_dir() and p.name in keys):
                add(folder_poll(folder=folder, tenant=tenant, use_case_key=folder.name, now=now))
    for entry in intake_connectors(connector_type=ConnectorType.FOLDER):
        use_case = entry.use_cases.order_by("key").first()
        if use_case is not None and entry.endpoint:
            add(folder_poll(folder=Path(entry.endpoint), tenant=entry.tenant, use_case_key=use_case.key, now=now))
    return total
