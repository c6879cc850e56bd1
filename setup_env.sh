#!/usr/bin/env bash
# setup_env.sh -- create / reuse the project virtualenv at <repo>/.venv (Python 3.7).
#
# Usage:  ./setup_env.sh            (executed: builds the venv, prints its python)
#         source setup_env.sh       (sourced: same, then sets GAS_VENV_PYTHON)
#
# Environment knobs:
#   GAS_PYTHON=/path/to/python3.7   interpreter used to create the venv
#   GAS_TF_BUILD=cpu|stock|gpu|ngc  which TensorFlow 1.15 to use (default cpu);
#                                   tf2 is the TF 2.x stack (setup_env_tf2.sh)
#
# ngc: inside NVIDIA's TF1 container (Dockerfile, --build-arg TF_IMAGE=ngc), whose
#      TensorFlow 1.15.5 (CUDA 12, Ampere and Hopper) is built for the image's Python 3.8:
#      the venv sees the image's packages (--system-site-packages), installs no TF wheel,
#      and installs requirements.lock with the pins of requirements-ngc.lock in place of
#      the lock's (the few that NVIDIA's build requires otherwise).
#
# The venv is (re)installed only when .venv/.gas-stamp does not hold the sha256 of
# requirements.lock's pins + the chosen TF pin (+ requirements-ngc.lock's for ngc; comments do
# not count); otherwise this is a no-op (well under 2 s).

# ---- TensorFlow wheels (everything else is pinned in requirements.lock) ---------
# cpu: Intel's oneDNN (MKL-DNN) build of TF 1.15 -- same tf / tf.compat.v1 API as
#      stock, ~1.5-2x faster for conv/deconv GAN training on CPU.
CPU_TF_PIN="intel-tensorflow==1.15.2"
STOCK_TF_PIN="tensorflow==1.15.5"
GPU_TF_PIN="tensorflow-gpu==1.15.5"      # needs CUDA 10.0 + cuDNN 7.4+
NGC_TF_NOTE="TensorFlow 1.15.5 of the base image (NVIDIA TF1 container, Python 3.8)"
# pip used inside the venv (24.0 is the last pip supporting Python 3.7; old bundled
# pips, e.g. 19.2 on Ubuntu 18.04, do not understand manylinux_2_17 wheel tags).
PIP_PIN="pip==24.0"
# All distributions that provide the `tensorflow` module; only one may be installed.
TF_DISTS="tensorflow tensorflow-gpu tensorflow-cpu intel-tensorflow"

_GAS_TAG=setup_env
# shellcheck source=scripts/env_lib.sh disable=SC2317  # `exit` is reached when executed
. "$(dirname "${BASH_SOURCE[0]}")/scripts/env_lib.sh" || { return 1 2>/dev/null || exit 1; }

# _gas_drop_other_tf VPY LOG KEEP: uninstall every $TF_DISTS distribution except KEEP
# (e.g. switching cpu -> gpu build).
_gas_drop_other_tf() {
    local have other
    local -a stale=()
    have="$("$1" -m pip list --format=freeze 2>/dev/null | tr 'A-Z_' 'a-z-')"
    for other in $TF_DISTS; do
        [ "$other" = "$3" ] && continue
        if printf '%s\n' "$have" | grep -q "^$other=="; then stale+=("$other"); fi
    done
    if [ "${#stale[@]}" -gt 0 ]; then
        _gas_log "uninstalling other TensorFlow build(s): ${stale[*]}"
        "$1" -m pip uninstall -y "${stale[@]}" >>"$2" 2>&1 || _gas_die "pip uninstall failed"
    fi
}

_gas_setup_main() {
    local root venv vpy lock tf_pin want py build pyver=3.7 overlay="" install
    local -a venv_args=()
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    venv="$root/.venv"; vpy="$venv/bin/python"; lock="$root/requirements.lock"
    [ -f "$lock" ] || _gas_die "missing $lock"

    build="${GAS_TF_BUILD:-cpu}"
    case "$build" in
        cpu)   tf_pin="$CPU_TF_PIN" ;;
        stock) tf_pin="$STOCK_TF_PIN" ;;
        gpu)   tf_pin="$GPU_TF_PIN" ;;
        ngc)   tf_pin=""; pyver=3.8; overlay="$root/requirements-ngc.lock"
               venv_args=(--system-site-packages)
               [ -f "$overlay" ] || _gas_die "missing $overlay" ;;
        tf2)   _gas_die "GAS_TF_BUILD=tf2 is the TensorFlow 2.x stack in .venv-tf2: ./setup_env_tf2.sh builds it (./run_all.sh and ./run_tests.sh use it under GAS_TF_BUILD=tf2)" ;;
        *)     _gas_die "GAS_TF_BUILD must be cpu, stock, gpu, ngc (TF 1.15) or tf2 (got '$build')" ;;
    esac
    want="$({ _gas_pins "$lock"; printf '%s\n' "${tf_pin:-$build}"; [ -z "$overlay" ] || _gas_pins "$overlay"; } \
            | _gas_sha256)"

    # Fast path: venv python works and the stamp matches.
    if _gas_up_to_date "$pyver" "$venv" "$want"; then
        _gas_log "venv up to date (${tf_pin:-$NGC_TF_NOTE}): ${vpy#"$root"/}"
        return 0
    fi

    # Find a base interpreter first (before touching .venv) if the venv must be (re)built;
    # ngc always rebuilds (the venv must see the image's site-packages).
    py=""
    if [ "$build" = ngc ]; then
        py="$(_gas_find_python 3.8 GAS_PYTHON "NVIDIA's TF 1.15 build is for the image's 3.8" \
              3.8.10 "Ubuntu 20.04")"
    elif ! _gas_is_py 3.7 "$vpy"; then
        py="$(_gas_find_python 3.7 GAS_PYTHON "TensorFlow 1.15 needs exactly 3.7" 3.7.16 \
              "Ubuntu <= 20.04")"
    fi

    _gas_lock "$venv"
    if [ -n "$py" ]; then
        if [ -e "$vpy" ] || [ -L "$vpy" ]; then
            _gas_log "recreating .venv (broken, another Python, or GAS_TF_BUILD=ngc)"
            _gas_wipe "$venv"
        fi
        _gas_make_venv "$py" "$venv" ${venv_args[@]+"${venv_args[@]}"}
    else
        _gas_log "reusing .venv ($("$vpy" -V 2>&1)); stamp changed, reinstalling"
    fi

    _gas_pip_bootstrap "$venv" "$PIP_PIN"
    if [ "$build" = ngc ]; then
        install="$venv/.gas-requirements-ngc.txt"
        _gas_overlay_lock "$lock" "$overlay" >"$install"
        _gas_pip_install "$venv" "requirements.lock with requirements-ngc.lock's pins ($NGC_TF_NOTE)" \
            -r "$install"
        _gas_finish "$venv" "$want" "$NGC_TF_NOTE + requirements-ngc.lock" 1
        return 0
    fi
    _gas_drop_other_tf "$vpy" "$venv/.gas-install.log" "${tf_pin%%==*}"
    _gas_pip_install "$venv" "requirements.lock + $tf_pin (GAS_TF_BUILD=$build)" \
        -r "$lock" "$tf_pin"
    _gas_finish "$venv" "$want" "$tf_pin"
}

# Executed: build and exit.  Sourced: build in a subshell, then set GAS_VENV_PYTHON.
_gas_dispatch "${BASH_SOURCE[0]}" GAS_VENV_PYTHON .venv "$@"
