#!/usr/bin/env bash
# Install Speech Studio with its test tools into .venv (plus Debian espeak-ng, chromium for the
# browser tests and postgresql for the listening tests on a throwaway PostgreSQL cluster) and run
# the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh requirements-dev.txt chromium postgresql
exec .venv/bin/python -m pytest "$@"
