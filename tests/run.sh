#!/usr/bin/env bash
# The README's test command. On a fresh Debian machine it does all the set-up itself:
#   - creates .venv and installs the project with its `test` extra at the versions pinned in constraints.txt
#     (again only when pyproject.toml or constraints.txt changed),
#   - installs Debian's chromium when there are browser tests and it is missing,
#   - installs Debian's tesseract-ocr with German and English language data (OCR) when missing,
#   - installs Debian's dovecot-imapd (the mailbox tests start it on loopback) when missing,
#   - installs Debian's gettext (msgfmt, to check the compiled German catalogue) when missing,
#   - installs PostgreSQL and Redis when they are missing, and starts them when they are not running,
# then runs the whole suite against PostgreSQL. Extra arguments go to pytest.
#
# TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/leitplanke; pytest-django creates and drops
# test_<name> beside it) and TEST_REDIS_URL choose the servers. The run gets its own var/ folder.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# --- Python environment ---------------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# The versions come from constraints.txt (exact pins of a set tested together); the environment is brought
# in line again whenever pyproject.toml or constraints.txt changes.
stamp=.venv/.leitplanke-test-install
wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || ! .venv/bin/python -c "import pytest_django, portal" 2>/dev/null; then
  echo "Installing the project with its test extra (versions from constraints.txt) ..."
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
  echo "$wanted" >"$stamp"
fi

# --- Chromium, for the browser tests ----------------------------------------------------------------
if grep -rqs --include='*.py' "mark.browser" tests/ && ! [ -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests ..."
  apt_install chromium
fi

# --- OCR: Debian's tesseract with the German and English language data (the document stage) -----------
langs=$(tesseract --list-langs 2>/dev/null || true)
if ! grep -qx deu <<<"$langs" || ! grep -qx eng <<<"$langs"; then
  echo "Installing Debian's tesseract-ocr with German and English for OCR ..."
  apt_install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng
fi

# --- gettext's msgfmt: a test checks that the committed German catalogue is compiled from its .po ----------
if ! command -v msgfmt >/dev/null; then
  echo "Installing Debian's gettext (msgfmt) ..."
  apt_install gettext
fi

# --- IMAP: Debian's dovecot, started by the mailbox tests as a fixture on loopback -----------------------
if ! command -v dovecot >/dev/null && ! [ -x /usr/sbin/dovecot ]; then
  echo "Installing Debian's dovecot-imapd for the mailbox tests ..."
  apt_install dovecot-imapd
fi

# --- PostgreSQL -------------------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null; then
  echo "Installing PostgreSQL ..."
  apt_install postgresql
  # A test server on loopback only: let the postgres role in without a password from this machine.
  hba="$(ls -d /etc/postgresql/*/main | head -n 1)/pg_hba.conf"
  as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "Starting PostgreSQL ..."
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# --- Redis ------------------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null; then
  echo "Installing Redis ..."
  apt_install redis-server redis-tools
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis ..."
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/leitplanke-redis.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# --- The suite ----------------------------------------------------------------------------------------
# Stray variables the celery command would read (MACHINE-NOTES.md), and configuration of a
# development shell that must not reach the tests.
unset BROKER_URL RESULT_BACKEND APP CELERY_BROKER_URL CELERY_RESULT_BACKEND DATABASE_ADMIN_URL DEBUG SECRET_KEY
export PORTAL_ENV=test
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leitplanke}
export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export PORTAL_VAR_DIR=${PORTAL_VAR_DIR:-$scratch/var}

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then echo "pytest collected no tests: that is a failure here." >&2; fi
exit "$status"
