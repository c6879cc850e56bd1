#!/usr/bin/env bash
# run_tests.sh -- build/reuse .venv (see setup_env.sh) and run the unit tests.
# Usage: ./run_tests.sh [extra pytest args, e.g. -k gas -x]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

./setup_env.sh

export TF_CPP_MIN_LOG_LEVEL=2 PYTHONHASHSEED=0
export MPLBACKEND="${MPLBACKEND:-Agg}"   # headless plotting

rc=0
.venv/bin/python -m pytest -q tests "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "run_tests.sh: pytest collected no tests (exit 5) -- treating as a failure" >&2
    exit 1
fi
exit "$rc"
