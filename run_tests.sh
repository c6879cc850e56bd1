#!/usr/bin/env bash
# run_tests.sh -- build/reuse the venvs and run the unit tests in two lanes:
#   1. TF 1.15 lane: every test, in .venv (Python 3.7, see setup_env.sh) -- the paper's stack;
#   2. TF 2.x lane:  tests marked `tf2` (framework-level: loss terms, distiller graphs,
#      tf_compat), in .venv-tf2 (Python 3.11, see setup_env_tf2.sh) -- proves the same
#      graph code runs on TF 2.x's compat.v1.
# Usage: ./run_tests.sh [--tf1-only | --tf2-only] [extra pytest args, e.g. -k gas -x]
#   (GAS_TF_BUILD=tf2 ./run_tests.sh = --tf2-only)
# Extra pytest args go to every lane that runs. Exits non-zero if any lane fails; a lane
# that collects no tests (pytest exit 5) is a failure -- except the TF 2.x lane when your
# pytest args filtered out all its tests while the TF 1.15 lane ran too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

run_tf1=1 run_tf2=1
# GAS_TF_BUILD=tf2 (the TF 2.x stack, as ./run_all.sh): the TF 2.x lane only.
[ "${GAS_TF_BUILD:-cpu}" = "tf2" ] && run_tf1=0
args=()
for arg in "$@"; do
    case "$arg" in
        --tf1-only) run_tf2=0 ;;
        --tf2-only) run_tf1=0 ;;
        *) args+=("$arg") ;;
    esac
done
if [ "$run_tf1" -eq 0 ] && [ "$run_tf2" -eq 0 ]; then
    echo "run_tests.sh: --tf1-only and --tf2-only exclude each other" >&2
    exit 2
fi

[ "$run_tf1" -eq 1 ] && ./setup_env.sh
[ "$run_tf2" -eq 1 ] && ./setup_env_tf2.sh

export TF_CPP_MIN_LOG_LEVEL=2 PYTHONHASHSEED=0
export MPLBACKEND="${MPLBACKEND:-Agg}"   # headless plotting

lane() {  # lane TITLE TF_MAJOR PYTHON [pytest args...]; sets $lane_rc
    local title="$1" major="$2" py="$3"
    shift 3
    printf '\n==================== %s ====================\n' "$title"
    lane_rc=0
    GAS_EXPECT_TF_MAJOR="$major" "$py" -m pytest -q --durations=12 "$@" || lane_rc=$?
}

# With no extra pytest args (CI), the TF 1.15 lane runs as two pytest processes side by side,
# one per core: most tests hold one core (one-thread sessions, one subprocess at a time). The
# run_all end-to-end files (about half the lane's time) go to the first, every other file (new
# ones too) to the second. Each has its own --basetemp; the second's output follows the first's.
# When the TF 2.x lane runs too, it starts in the core the first part frees (``after_part_1``),
# while the second part still runs: the two lanes overlap instead of queueing.
HEAVY_FILES=(tests/test_cli_smoke.py tests/test_grid_backends.py
             tests/test_fig2.py tests/test_rl_cli_smoke.py)
split_tf1_lane() {  # split_tf1_lane [COMMAND run after part 1]; sets $lane_rc
    local after_part_1="${1:-}"
    printf '\n==================== %s ====================\n' \
        "lane 1/2: TensorFlow 1.15 (.venv, all tests, two processes)"
    local tmp ignores=() rc_a=0 rc_b=0 pid_b
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/gas-tests.XXXXXX")"
    for f in "${HEAVY_FILES[@]}"; do ignores+=(--ignore "$f"); done
    GAS_EXPECT_TF_MAJOR=1 .venv/bin/python -m pytest -q --durations=12 -p no:cacheprovider \
        --basetemp "$tmp/b" tests "${ignores[@]}" > "$tmp/b.log" 2>&1 &
    pid_b=$!
    echo "-- part 1/2: ${HEAVY_FILES[*]}"
    GAS_EXPECT_TF_MAJOR=1 .venv/bin/python -m pytest -q --durations=12 -p no:cacheprovider \
        --basetemp "$tmp/a" "${HEAVY_FILES[@]}" || rc_a=$?
    [ -n "$after_part_1" ] && "$after_part_1"
    wait "$pid_b" || rc_b=$?
    printf '\n-- part 2/2 of the TF 1.15 lane: every other file in tests/\n'
    cat "$tmp/b.log"
    rm -rf "$tmp"
    lane_rc=0
    if [ "$rc_a" -ne 0 ] || [ "$rc_b" -ne 0 ]; then
        echo "run_tests.sh: TF 1.15 lane parts exited $rc_a and $rc_b" >&2
        lane_rc=1
        [ "$rc_a" -eq 5 ] && [ "$rc_b" -eq 5 ] && lane_rc=5
    fi
}

tf2_lane() {  # the TF 2.x lane and the import-layer contract; appends to $failed
    lane "lane 2/2: TensorFlow 2.x compat.v1 (.venv-tf2, tests marked tf2)" 2 \
        .venv-tf2/bin/python -m tf2 tests ${args[@]+"${args[@]}"}
    if [ "$lane_rc" -eq 5 ]; then
        if [ "$run_tf1" -eq 1 ] && [ "${#args[@]}" -gt 0 ]; then
            echo "run_tests.sh: TF 2.x lane: your pytest args select no tf2 tests; nothing to run there"
        else
            echo "run_tests.sh: TF 2.x lane collected no tests (exit 5) -- treating as a failure" >&2
            failed+=("tf2 (no tests)")
        fi
    elif [ "$lane_rc" -ne 0 ]; then
        failed+=("tf2 (exit $lane_rc)")
    fi
    # The import-layer contract (.importlinter): lint-imports reads the source, imports nothing.
    printf '\n==================== import layers (.importlinter, lint-imports) ====================\n'
    if ! PYTHONPATH="$PWD" .venv-tf2/bin/lint-imports --config .importlinter; then
        failed+=("import layers")
    fi
    tf2_done=1
}

failed=() tf2_done=0
if [ "$run_tf1" -eq 1 ]; then
    if [ "${#args[@]}" -eq 0 ]; then
        if [ "$run_tf2" -eq 1 ]; then split_tf1_lane tf2_lane; else split_tf1_lane; fi
    else
        lane "lane 1/2: TensorFlow 1.15 (.venv, all tests)" 1 .venv/bin/python \
            tests ${args[@]+"${args[@]}"}
    fi
    if [ "$lane_rc" -eq 5 ]; then
        echo "run_tests.sh: TF 1.15 lane collected no tests (exit 5) -- treating as a failure" >&2
        failed+=("tf1 (no tests)")
    elif [ "$lane_rc" -ne 0 ]; then
        failed+=("tf1 (exit $lane_rc)")
    fi
fi
[ "$run_tf2" -eq 1 ] && [ "$tf2_done" -eq 0 ] && tf2_lane

echo
if [ "${#failed[@]}" -gt 0 ]; then
    echo "run_tests.sh: FAILED lane(s): ${failed[*]}" >&2
    exit 1
fi
echo "run_tests.sh: all lanes passed"
