#!/usr/bin/env bash
# Install Speech Studio with its test tools into .venv (plus Debian espeak-ng and chromium
# for the browser tests) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh requirements-dev.txt chromium
exec .venv/bin/python -m pytest "$@"
