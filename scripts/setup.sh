#!/usr/bin/env bash
# Creates .venv and installs handclip into it; torch==2.13.0 first so pip never pulls a CUDA build, then the
# package with every extra (export, figures, logs) and the test tools, at the versions of constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0
python -m pip install -q -c constraints.txt -e ".[dev,export,figures,logs]"
