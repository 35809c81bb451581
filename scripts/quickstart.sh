#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the quickstart on the embedded synthetic data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
handclip quickstart "$@"
