#!/usr/bin/env bash
# Install Speech Studio into .venv and start it at http://127.0.0.1:7860 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh requirements.txt
exec .venv/bin/python app.py
