#!/usr/bin/env bash
# run_all.sh -- reproduce the paper's experiments (tables/figures) end to end.
# Usage: ./run_all.sh [--profile paper|quick|smoke] [--only table1] [--jobs N]
#   e.g. ./run_all.sh --profile quick --only table1 --jobs 2
# Writes runs/<profile>/ (rerun to resume); results/ is the shipped reference, written only
# with --results_dir results.
# TF build: GAS_TF_BUILD=cpu (default, intel-tensorflow) | stock | gpu  (see setup_env.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

./setup_env.sh

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
exec .venv/bin/python -m reproduce run_all "$@"
