#!/usr/bin/env bash
# Shared by run_app.sh and test.sh: a Python 3.11 virtual environment in .venv with the
# pinned requirements, plus the Debian packages named in packages.txt (as on a Space).
# Usage: source scripts/setup_env.sh REQUIREMENTS_FILE [EXTRA_DEBIAN_PACKAGES...]
set -euo pipefail
requirements=$1; shift
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || { echo "error: $python not found; install Python 3.11 or set PYTHON=..." >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements" -e .

debian=$(grep -v '^#' packages.txt | xargs) ; debian="$debian $*"
missing=$(for p in $debian; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq $missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $missing >/dev/null; }
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get install -y -qq $missing
  else
    echo "note: please install these Debian/Ubuntu packages: $missing" >&2
  fi
fi
