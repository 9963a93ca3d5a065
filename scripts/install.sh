#!/usr/bin/env bash
# Install everything StockMind needs on Debian/Ubuntu: PostgreSQL server binaries (apt,
# when missing and no DATABASE_URL is given), redis-server (apt, when missing and no
# API_RATE_LIMIT_STORAGE is given), Node.js/npm and Debian's chromium (apt, when missing;
# STOCKMIND_BROWSER=none skips the browser), a virtual environment in .venv with the
# pinned lock (requirements.txt) installed by uv, the project itself (editable), and the
# page's assets from package-lock.json (npm ci, into node_modules/).
# Safe to run again: a second run checks, finds everything in place and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.8
log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: $* — run: sudo apt-get install -y $*" >&2
    exit 1
  fi
  log "apt-get install $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. PostgreSQL server (the project starts its own cluster; see stockmind/platform/postgres_cluster.py)
if [ -z "${DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_install postgresql postgresql-contrib
fi
if [ "$(id -u)" -eq 0 ] && [ -z "${DATABASE_URL:-}" ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
# Redis for the API's rate-limit counters and WebSocket caps (make up starts its own)
if [ -z "${API_RATE_LIMIT_STORAGE:-}" ] && ! command -v redis-server >/dev/null 2>&1 \
   && [ ! -x /usr/bin/redis-server ]; then
  apt_install redis-server
fi

# Node.js for the page's chart library (npm, pinned by package-lock.json; no CDN, no build)
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
# A real browser for the page tests and the README's screenshots (Debian's, no download)
if [ "${STOCKMIND_BROWSER:-chromium}" = chromium ] && [ ! -x /usr/bin/chromium ]; then
  # only the browser tests need it: where apt has no chromium (Ubuntu ships a snap), say so
  (apt_install chromium) || echo "[install] no chromium from apt: the browser tests will fail" >&2
fi

# 2. Python virtual environment
if ! "$PYTHON" -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13)' 2>/dev/null; then
  echo "Python 3.11 or 3.12 is required (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then apt_install python3-venv; fi
  log "creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  log "installing uv $UV_VERSION"
  .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi

# 3. The lock, then the project (no dependency resolution: the lock is the truth)
log "syncing .venv with requirements.txt"
.venv/bin/uv pip sync --quiet --python .venv/bin/python --compile-bytecode requirements.txt
.venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
.venv/bin/python -m pip check >/dev/null || .venv/bin/python -m pip check
# npm ci replaces node_modules: only when the lock changed (a second install changes nothing)
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.stockmind-lock 2>/dev/null)" != "$lock_sum" ]; then
  log "npm ci (the page's assets: lightweight-charts)"
  npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" > node_modules/.stockmind-lock
fi
log "done: $(.venv/bin/python --version), $(.venv/bin/airflow version 2>/dev/null | tail -n1 | sed 's/^/airflow /')"
