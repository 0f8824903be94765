#!/usr/bin/env bash
# Back up and restore Leitplanke: the PostgreSQL database, the files of work items (PORTAL_MEDIA_ROOT) and the
# signed audit checkpoints (AUDIT_CHECKPOINT_DIR). docs/deployment.md, "Backups and restore".
#
#   deploy/backup.sh backup  FOLDER    writes FOLDER/{database.dump,media.tar.gz,checkpoints.tar.gz,MANIFEST}
#   deploy/backup.sh restore FOLDER    checks the MANIFEST's checksums, restores all three, runs verify_audit
#
# Reads the portal's own environment (the same file the systemd units read): DATABASE_ADMIN_URL (the owner
# role; else DATABASE_URL), PORTAL_MEDIA_ROOT and AUDIT_CHECKPOINT_DIR (defaults below PORTAL_VAR_DIR, as in
# portal/settings.py). Run it from the checkout (or set LEITPLANKE_HOME) with the portal stopped for a
# restore; a backup runs while the portal serves (pg_dump takes a consistent snapshot; files are only ever
# added, so a file newer than the dump is harmless and a dump row never lacks its file when files are
# archived after the dump).
#
# The restore recreates the database from the dump (pg_restore --clean --if-exists into the database named
# by the URL, which must exist: create it empty first on a new server), replaces the media and checkpoint
# folders, then runs `manage.py setup_db_roles` (grants of the runtime role) and `manage.py verify_audit`:
# a restore whose audit chains do not verify against the restored checkpoints exits non-zero.
set -euo pipefail

home=${LEITPLANKE_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
python=${LEITPLANKE_PYTHON:-$home/.venv/bin/python}
var=${PORTAL_VAR_DIR:-$home/var}
media=${PORTAL_MEDIA_ROOT:-$var/media}
checkpoints=${AUDIT_CHECKPOINT_DIR:-$var/checkpoints}
url=${DATABASE_ADMIN_URL:-${DATABASE_URL:-}}

die() { echo "backup.sh: $*" >&2; exit 1; }
[ $# = 2 ] || die "usage: $0 backup|restore FOLDER"
action=$1 folder=$2
case "$url" in
  postgres://*|postgresql://*) ;;
  *) die "DATABASE_ADMIN_URL or DATABASE_URL must name a PostgreSQL database (the embedded SQLite default: copy var/ with the portal stopped)";;
esac
# libpq understands the URL itself; "postgres://" and "postgresql://" both work.

archive() {  # archive SOURCE_DIR TARGET.tar.gz (an empty archive when the folder does not exist yet)
  if [ -d "$1" ]; then tar -C "$1" -czf "$2" .; else tar -czf "$2" -T /dev/null; fi
}

unarchive() {  # unarchive SOURCE.tar.gz TARGET_DIR: the folder ends up exactly as archived
  local target=$1 tmp
  tmp="$target.restore-$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  tar -C "$tmp" -xzf "$2"
  rm -rf "$target.old-$$"
  if [ -e "$target" ]; then mv "$target" "$target.old-$$"; fi
  mv "$tmp" "$target"
  rm -rf "$target.old-$$"
}

case "$action" in
  backup)
    mkdir -p "$folder"
    [ -z "$(ls -A "$folder")" ] || die "$folder is not empty"
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    pg_dump --format=custom --no-owner --no-privileges --file "$folder/database.dump" "$url"
    # After the dump: every file a dumped row refers to is already there.
    archive "$media" "$folder/media.tar.gz"
    archive "$checkpoints" "$folder/checkpoints.tar.gz"
    {
      echo "# Leitplanke backup, started $started, finished $(date -u +%Y-%m-%dT%H:%M:%SZ)"
      echo "# migration: $("$python" "$home/manage.py" showmigrations --plan 2>/dev/null | grep -c '\[X\]') applied"
      (cd "$folder" && sha256sum database.dump media.tar.gz checkpoints.tar.gz)
    } >"$folder/MANIFEST"
    echo "Backed up to $folder:"; cat "$folder/MANIFEST"
    ;;
  restore)
    [ -f "$folder/MANIFEST" ] || die "$folder has no MANIFEST"
    (cd "$folder" && grep -v '^#' MANIFEST | sha256sum --check --quiet) || die "checksums of $folder do not match its MANIFEST"
    pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
      --dbname "$url" "$folder/database.dump"
    unarchive "$media" "$folder/media.tar.gz"
    unarchive "$checkpoints" "$folder/checkpoints.tar.gz"
    if [ -n "${DATABASE_ADMIN_URL:-}" ]; then
      "$python" "$home/manage.py" setup_db_roles
    fi
    echo "Verifying the audit chains against the restored checkpoints ..."
    "$python" "$home/manage.py" verify_audit
    echo "Restored from $folder."
    ;;
  *) die "usage: $0 backup|restore FOLDER";;
esac
