#!/usr/bin/env bash
# run_all.sh -- reproduce the paper's experiments (tables/figures) end to end.
# Usage: ./run_all.sh [--profile paper|quick|smoke] [--only table1] [--jobs N]
#   e.g. ./run_all.sh --profile quick --only table1 --jobs 2
# Writes runs/<profile>/ (rerun to resume); results/ is the shipped reference, written only
# with --results_dir results.
# TF build: GAS_TF_BUILD=cpu (default, intel-tensorflow) | stock | gpu  (TF 1.15, .venv, see
#   setup_env.sh) | tf2 (TensorFlow 2.x compat.v1 on Python 3.11, .venv-tf2, see
#   setup_env_tf2.sh: the image families; the RL families need gym and say "not run" there)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

if [ "${GAS_TF_BUILD:-cpu}" = "tf2" ]; then
    ./setup_env_tf2.sh
    python=.venv-tf2/bin/python
else
    ./setup_env.sh
    python=.venv/bin/python
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
exec "$python" -m reproduce run_all "$@"
