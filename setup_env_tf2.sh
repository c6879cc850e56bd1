#!/usr/bin/env bash
# setup_env_tf2.sh -- create / reuse the TensorFlow 2.x test-lane virtualenv at
# <repo>/.venv-tf2 (Python 3.11, everything pinned in requirements-tf2.lock).
#
# Usage:  ./setup_env_tf2.sh            (executed: builds the venv, prints its python)
#         source setup_env_tf2.sh       (sourced: same, then sets GAS_VENV_TF2_PYTHON)
#
# Environment knobs:
#   GAS_PYTHON_TF2=/path/to/python3.11  interpreter used to create the venv
#   GAS_TF2_DEVICE=auto|cpu|gpu         auto (default): the GPU build when nvidia-smi lists a
#                                       GPU, else the CPU build (tensorflow-cpu)
#
# The GPU build is requirements-tf2.lock with its tensorflow-cpu pin replaced by
# requirements-tf2-gpu.lock (tensorflow==2.17.1 and the CUDA 12.3 wheels of its and-cuda
# extra); the rest of the stack is the same.
#
# The lane proves the TF1 graph code runs on TF 2.x's compat.v1 (see ./run_tests.sh and
# requirements-tf2.lock); the experiments themselves use .venv (TF 1.15, setup_env.sh).
# The venv is (re)built only when .venv-tf2/.gas-stamp does not hold the sha256 of
# requirements-tf2.lock's pins + the pip pin (+ requirements-tf2-gpu.lock's for the GPU build;
# comments do not count); otherwise this is a no-op (well under 2 s).
# A changed lock rebuilds the venv from scratch, so it never holds stale packages.

PIP_PIN="pip==24.3.1"

_GAS_TAG=setup_env_tf2
# shellcheck source=scripts/env_lib.sh disable=SC2317  # `exit` is reached when executed
. "$(dirname "${BASH_SOURCE[0]}")/scripts/env_lib.sh" || { return 1 2>/dev/null || exit 1; }

_gas_setup_main() {
    local root venv lock want py device overlay="" install
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    venv="$root/.venv-tf2"; lock="$root/requirements-tf2.lock"; install="$lock"
    [ -f "$lock" ] || _gas_die "missing $lock"

    device="$(_gas_tf2_device)" || exit 1
    if [ "$device" = gpu ]; then
        overlay="$root/requirements-tf2-gpu.lock"
        [ -f "$overlay" ] || _gas_die "missing $overlay"
        install="$venv/.gas-requirements-gpu.txt"
    fi
    want="$({ _gas_pins "$lock"; printf '%s\n' "$PIP_PIN"; [ -z "$overlay" ] || _gas_pins "$overlay"; } \
            | _gas_sha256)"

    # Fast path: venv python works and the stamp matches.
    if _gas_up_to_date 3.11 "$venv" "$want"; then
        _gas_log "venv up to date ($device build): $venv/bin/python"
        return 0
    fi

    # Find a base interpreter before touching .venv-tf2.
    py="$(_gas_find_python 3.11 GAS_PYTHON_TF2 "requirements-tf2.lock is for 3.11" 3.11.7 \
          "Ubuntu 22.04+" "To run only the TensorFlow 1.15 lane instead:  ./run_tests.sh --tf1-only")"

    # Serialise concurrent setups; re-check once we hold the lock (another one may be done).
    _gas_lock "$venv"
    if _gas_up_to_date 3.11 "$venv" "$want"; then
        _gas_log "venv up to date ($device build): $venv/bin/python"
        return 0
    fi

    # Always build from scratch (keeps the lock file, which we hold).
    _gas_wipe "$venv" share
    _gas_make_venv "$py" "$venv"
    _gas_pip_bootstrap "$venv" "$PIP_PIN"
    [ -z "$overlay" ] || _gas_overlay_lock "$lock" "$overlay" tensorflow-cpu >"$install"
    _gas_pip_install "$venv" "requirements-tf2.lock ($device build)" -r "$install"
    _gas_finish "$venv" "$want" "requirements-tf2.lock + $PIP_PIN ($device build)" 2
}

# Executed: build and exit.  Sourced: build in a subshell, then set GAS_VENV_TF2_PYTHON.
_gas_dispatch "${BASH_SOURCE[0]}" GAS_VENV_TF2_PYTHON .venv-tf2 "$@"
