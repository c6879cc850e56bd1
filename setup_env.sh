#!/usr/bin/env bash
# setup_env.sh -- create / reuse the project virtualenv at <repo>/.venv (Python 3.7).
#
# Usage:  ./setup_env.sh            (executed: builds the venv, prints its python)
#         source setup_env.sh       (sourced: same, then sets GAS_VENV_PYTHON)
#
# Environment knobs:
#   GAS_PYTHON=/path/to/python3.7   interpreter used to create the venv
#   GAS_TF_BUILD=cpu|stock|gpu      which TensorFlow 1.15 wheel to install (default cpu)
#
# The venv is (re)installed only when .venv/.gas-stamp does not hold the sha256 of
# requirements.lock + the chosen TF pin; otherwise this is a no-op (well under 2 s).

# ---- TensorFlow wheels (everything else is pinned in requirements.lock) ---------
# cpu: Intel's oneDNN (MKL-DNN) build of TF 1.15 -- same tf / tf.compat.v1 API as
#      stock, ~1.5-2x faster for conv/deconv GAN training on CPU.
CPU_TF_PIN="intel-tensorflow==1.15.2"
STOCK_TF_PIN="tensorflow==1.15.5"
GPU_TF_PIN="tensorflow-gpu==1.15.5"      # needs CUDA 10.0 + cuDNN 7.4+
# pip used inside the venv (24.0 is the last pip supporting Python 3.7; old bundled
# pips, e.g. 19.2 on Ubuntu 18.04, do not understand manylinux_2_17 wheel tags).
PIP_PIN="pip==24.0"
# All distributions that provide the `tensorflow` module; only one may be installed.
TF_DISTS="tensorflow tensorflow-gpu tensorflow-cpu intel-tensorflow"

_gas_log() { printf '[setup_env] %s\n' "$*"; }
_gas_die() { printf '[setup_env] ERROR: %s\n' "$*" >&2; exit 1; }

_gas_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1
    else shasum -a 256 | cut -d' ' -f1; fi
}

# Is "$1" a working CPython 3.7 that can create venvs?  (0 = yes)
_gas_is_py37() {
    local p
    [ -n "$1" ] && p="$(command -v "$1" 2>/dev/null)" && [ -x "$p" ] || return 1
    "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 7) else 1)' \
        >/dev/null 2>&1 || return 1
    if ! "$p" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        _gas_log "note: $1 is Python 3.7 but lacks venv/ensurepip" \
                 "(Debian/Ubuntu: apt-get install python3.7-venv); skipping it" >&2
        return 1
    fi
}

_gas_find_python() {
    local cand root
    if [ -n "${GAS_PYTHON:-}" ]; then
        _gas_is_py37 "$GAS_PYTHON" && { printf '%s\n' "$GAS_PYTHON"; return 0; }
        _gas_die "GAS_PYTHON=$GAS_PYTHON is not a working Python 3.7 interpreter"
    fi
    local -a cands=() found=()
    cand="$(command -v python3.7 2>/dev/null || true)"
    [ -n "$cand" ] && cands+=("$cand")
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null || true)"
        if [ -n "$root" ]; then
            mapfile -t found < <(compgen -G "$root/versions/3.7.*/bin/python" | sort -rV)
            cands+=(${found[@]+"${found[@]}"})
        fi
    fi
    mapfile -t found < <(compgen -G "$HOME/.pyenv/versions/3.7.*/bin/python" | sort -rV)
    cands+=(${found[@]+"${found[@]}"})
    cands+=(/usr/bin/python3.7)
    for cand in "${cands[@]}"; do
        if _gas_is_py37 "$cand"; then printf '%s\n' "$cand"; return 0; fi
    done
    cat >&2 <<'EOF'
[setup_env] ERROR: no Python 3.7 interpreter found (TensorFlow 1.15 needs exactly 3.7).
Looked at: $GAS_PYTHON, python3.7 on PATH, $(pyenv root)/versions/3.7.*,
           ~/.pyenv/versions/3.7.*, /usr/bin/python3.7
Get one, e.g.:
    pyenv install 3.7.16          # then: GAS_PYTHON="$(pyenv root)/versions/3.7.16/bin/python"
  or
    conda create -n py37 python=3.7   # then: GAS_PYTHON="$(conda run -n py37 which python)"
  or (Ubuntu <= 20.04 / deadsnakes PPA)
    sudo apt-get install python3.7 python3.7-venv   # then: GAS_PYTHON=/usr/bin/python3.7
and re-run:
    GAS_PYTHON=/path/to/python3.7 ./run_tests.sh
EOF
    exit 1
}

_gas_setup_main() {
    local root venv vpy lock tf_pin want have log py build
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    venv="$root/.venv"; vpy="$venv/bin/python"; lock="$root/requirements.lock"
    log="$venv/.gas-install.log"
    [ -f "$lock" ] || _gas_die "missing $lock"

    build="${GAS_TF_BUILD:-cpu}"
    case "$build" in
        cpu)   tf_pin="$CPU_TF_PIN" ;;
        stock) tf_pin="$STOCK_TF_PIN" ;;
        gpu)   tf_pin="$GPU_TF_PIN" ;;
        *)     _gas_die "GAS_TF_BUILD must be cpu, stock or gpu (got '$build')" ;;
    esac
    want="$({ cat "$lock"; printf '%s\n' "$tf_pin"; } | _gas_sha256)"

    # Fast path: venv python works and the stamp matches.
    if [ -x "$vpy" ] && [ -f "$venv/.gas-stamp" ] \
       && [ "$(head -n1 "$venv/.gas-stamp")" = "$want" ] && _gas_is_py37 "$vpy"; then
        _gas_log "venv up to date ($tf_pin): $vpy"
        return 0
    fi

    # Find a base interpreter first (before touching .venv) if the venv must be (re)built.
    py=""
    if ! _gas_is_py37 "$vpy"; then
        py="$(_gas_find_python)"
    fi

    mkdir -p "$venv"
    # Serialise concurrent setups (e.g. run_tests.sh and run_all.sh started together).
    command -v flock >/dev/null 2>&1 && { exec 9>"$venv/.gas-lock"; flock 9; }

    if [ -n "$py" ]; then
        if [ -e "$vpy" ] || [ -L "$vpy" ]; then
            _gas_log "existing .venv is broken or not Python 3.7; recreating it"
            rm -rf "${venv:?}/bin" "${venv:?}/lib" "${venv:?}/lib64" "${venv:?}/include" \
                   "${venv:?}/pyvenv.cfg" "${venv:?}/.gas-stamp"
        fi
        _gas_log "creating .venv with $py ($("$py" -V 2>&1))"
        "$py" -m venv "$venv" || _gas_die "python -m venv failed"
    else
        _gas_log "reusing .venv ($("$vpy" -V 2>&1)); stamp changed, reinstalling"
    fi

    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    : >"$log"
    _gas_log "bootstrapping $PIP_PIN (log: .venv/.gas-install.log)"
    "$vpy" -m pip install "$PIP_PIN" >>"$log" 2>&1 \
        || { tail -n 30 "$log" >&2; _gas_die "pip bootstrap failed"; }

    # Remove any other TensorFlow distribution (e.g. switching cpu -> gpu build).
    local tf_name other
    local -a stale=()
    tf_name="${tf_pin%%==*}"
    have="$("$vpy" -m pip list --format=freeze 2>/dev/null | tr 'A-Z_' 'a-z-')"
    for other in $TF_DISTS; do
        [ "$other" = "$tf_name" ] && continue
        if printf '%s\n' "$have" | grep -q "^$other=="; then stale+=("$other"); fi
    done
    if [ "${#stale[@]}" -gt 0 ]; then
        _gas_log "uninstalling other TensorFlow build(s): ${stale[*]}"
        "$vpy" -m pip uninstall -y "${stale[@]}" >>"$log" 2>&1 || _gas_die "pip uninstall failed"
    fi

    _gas_log "installing requirements.lock + $tf_pin (GAS_TF_BUILD=$build)"
    local t0=$SECONDS
    "$vpy" -m pip install -r "$lock" "$tf_pin" >>"$log" 2>&1 \
        || { grep -v 'is ignored' "$log" | tail -n 30 >&2; _gas_die "pip install failed (see $log)"; }
    _gas_log "installed in $((SECONDS - t0)) s"

    if ! "$vpy" -m pip check >>"$log" 2>&1; then
        _gas_log "WARNING: pip check reports conflicts (continuing):"
        "$vpy" -m pip check 2>&1 | sed 's/^/[setup_env]   /' || true
    fi

    local ver
    ver="$(TF_CPP_MIN_LOG_LEVEL=3 "$vpy" -c 'import tensorflow as tf, numpy as np
tf.compat.v1.placeholder
print("tensorflow", tf.__version__, "numpy", np.__version__)' 2>>"$log")" \
        || _gas_die "import tensorflow failed in .venv (see $log)"
    _gas_log "verified: $ver"

    printf '%s\n# %s\n' "$want" "$tf_pin" >"$venv/.gas-stamp"
    _gas_log "venv ready: $vpy"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed.
    set -euo pipefail
    _gas_setup_main "$@"
else
    # Sourced: run in a subshell so `set -e` / exit cannot kill the caller's shell.
    if ( set -euo pipefail; _gas_setup_main "$@" ); then
        # shellcheck disable=SC2034  # consumed by the sourcing script
        GAS_VENV_PYTHON="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venv/bin/python"
    else
        return 1
    fi
fi
