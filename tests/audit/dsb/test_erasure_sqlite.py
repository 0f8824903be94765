"""On the embedded default (SQLite in WAL mode) an erasure leaves the erased bytes neither in the database
file, nor in its write-ahead log, nor in the stored files: secure_delete on every connection, a WAL checkpoint
that truncates the log and a VACUUM after the erasure, stored files overwritten before they are removed."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
EMAIL = "susi.sorglos-7f3a@example.org"


def _site(var: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATABASE_ADMIN_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    env |= {"PORTAL_ENV": "test", "PORTAL_VAR_DIR": str(var)}
    result = subprocess.run([sys.executable, "-m", "tests.audit.dsb.sqlite_site", *args], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _holding(var: Path, needle: bytes) -> list[str]:
    """Every file under var/ whose bytes contain the needle (also UTF-16, as SQLite may store text)."""
    found = []
    for path in sorted(p for p in var.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if needle in data or needle.decode().encode("utf-16-le") in data:
            found.append(str(path.relative_to(var)))
    return found


def test_after_an_erasure_neither_the_database_nor_its_wal_nor_a_file_holds_the_identifier(migrated_var):
    var = migrated_var
    _site(var, "seed", EMAIL)
    before = _holding(var, EMAIL.encode())
    assert "leitplanke.sqlite3" in before or "leitplanke.sqlite3-wal" in before, before  # the test can see it
    assert any(name.startswith("media/") for name in before), before

    # Another process keeps the database open, as the quick start's web server and worker do: the write-ahead
    # log then outlives the erasing process (the last connection to close would otherwise fold it in).
    other = sqlite3.connect(var / "leitplanke.sqlite3")
    try:
        assert other.execute("SELECT count(*) FROM automations_masterrecord").fetchone() == (1,)

        report = _site(var, "erase", EMAIL).stdout

        assert f"Erased email {EMAIL}" in report
        assert _holding(var, EMAIL.encode()) == []
        wal = var / "leitplanke.sqlite3-wal"
        assert not wal.exists() or wal.stat().st_size == 0
        assert other.execute("SELECT count(*) FROM automations_masterrecord").fetchone() == (0,)
    finally:
        other.close()


def test_on_sqlite_the_triggers_keep_pseudonyms_and_verification_runs_as_they_were(migrated_var):
    var = migrated_var
    _site(var, "seed", EMAIL)
    lines = _site(var, "guards", EMAIL).stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["refused"] * 4 + [lines[4].split(":")[0]]
