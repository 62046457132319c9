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
# DistillMOS (a metric) and xls_r_sqa, whose model code it reuses, declare torchaudio as a dependency.
# torchaudio must never be installed here: its only build for this platform is for another torch and
# breaks `import transformers`. So they go in without dependencies (the ones they use, torch, numpy,
# soundfile, librosa and transformers, come from the requirements), and studio/metrics/distillmos.py
# satisfies their unused `import torchaudio` while importing them.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps distillmos==0.9.1 xls_r_sqa==0.1.0

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
