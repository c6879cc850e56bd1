# shellcheck shell=bash
# scripts/env_lib.sh -- helpers shared by setup_env.sh (.venv: Python 3.7, TF 1.15) and
# setup_env_tf2.sh (.venv-tf2: Python 3.11, TF 2.x).  Sourced by them; not run directly.
#
# The sourcing script sets _GAS_TAG (the log prefix: setup_env / setup_env_tf2) and keeps
# its own pins, stamp contents and install flow; this file holds the mechanics:
# logging, sha256, interpreter discovery/validation, the stamp check, the flock, and the
# pip bootstrap / install / verify / stamp steps.  Each venv keeps its install log in
# <venv>/.gas-install.log and its stamp (sha256 of its inputs) in <venv>/.gas-stamp.

_gas_log() { printf '[%s] %s\n' "$_GAS_TAG" "$*"; }
_gas_die() { printf '[%s] ERROR: %s\n' "$_GAS_TAG" "$*" >&2; exit 1; }

# _gas_pins FILE...: the files' lines without comments, trailing blanks and empty lines, so a
# stamp (sha256 of what a venv was built from) changes with the pins only, not with the text
# that explains them.
_gas_pins() {
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$@"
}

_gas_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1
    else shasum -a 256 | cut -d' ' -f1; fi
}

# _gas_is_py VER CMD: is CMD a working CPython VER (major.minor) that can create venvs?
# (0 = yes)
_gas_is_py() {
    local ver="$1" p
    [ -n "$2" ] && p="$(command -v "$2" 2>/dev/null)" && [ -x "$p" ] || return 1
    "$p" -c 'import sys; sys.exit(0 if "%d.%d" % sys.version_info[:2] == sys.argv[1] else 1)' \
        "$ver" >/dev/null 2>&1 || return 1
    if ! "$p" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        _gas_log "note: $2 is Python $ver but lacks venv/ensurepip" \
                 "(Debian/Ubuntu: apt-get install python$ver-venv); skipping it" >&2
        return 1
    fi
}

# _gas_find_python VER VAR WHY EXAMPLE APT_NOTE [HINT]: print a base interpreter for VER.
#   VAR: env var that overrides the search (e.g. GAS_PYTHON); WHY: why exactly VER;
#   EXAMPLE: full version for the pyenv example; APT_NOTE: which Ubuntu ships it;
#   HINT: optional last line of the help text.  Exits 1 with that help when none is found.
_gas_find_python() {
    local ver="$1" var="$2" why="$3" example="$4" apt_note="$5" hint="${6:-}"
    local cand root sel="${!var:-}" conda_env="py${1//./}"
    if [ -n "$sel" ]; then
        _gas_is_py "$ver" "$sel" && { printf '%s\n' "$sel"; return 0; }
        _gas_die "$var=$sel is not a working Python $ver interpreter"
    fi
    local -a cands=() found=()
    cand="$(command -v "python$ver" 2>/dev/null || true)"
    [ -n "$cand" ] && cands+=("$cand")
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root 2>/dev/null || true)"
        if [ -n "$root" ]; then
            mapfile -t found < <(compgen -G "$root/versions/$ver.*/bin/python" | sort -rV)
            cands+=(${found[@]+"${found[@]}"})
        fi
    fi
    mapfile -t found < <(compgen -G "$HOME/.pyenv/versions/$ver.*/bin/python" | sort -rV)
    cands+=(${found[@]+"${found[@]}"})
    cands+=("/usr/bin/python$ver")
    for cand in "${cands[@]}"; do
        if _gas_is_py "$ver" "$cand"; then printf '%s\n' "$cand"; return 0; fi
    done
    cat >&2 <<EOF
[$_GAS_TAG] ERROR: no Python $ver interpreter found ($why).
Looked at: \$$var, python$ver on PATH, \$(pyenv root)/versions/$ver.*,
           ~/.pyenv/versions/$ver.*, /usr/bin/python$ver
Get one, e.g.:
    pyenv install $example          # then: $var="\$(pyenv root)/versions/$example/bin/python"
  or
    conda create -n $conda_env python=$ver   # then: $var="\$(conda run -n $conda_env which python)"
  or ($apt_note / deadsnakes PPA)
    sudo apt-get install python$ver python$ver-venv   # then: $var=/usr/bin/python$ver
and re-run:
    $var=/path/to/python$ver ./run_tests.sh
EOF
    if [ -n "$hint" ]; then printf '%s\n' "$hint" >&2; fi
    exit 1
}

# _gas_up_to_date VER VENV WANT: VENV's python is a working VER and the first line of
# VENV/.gas-stamp is WANT (the fast path: no reinstall).
_gas_up_to_date() {
    [ -x "$2/bin/python" ] && [ -f "$2/.gas-stamp" ] \
        && [ "$(head -n1 "$2/.gas-stamp")" = "$3" ] && _gas_is_py "$1" "$2/bin/python"
}

# _gas_lock VENV: create VENV and serialise concurrent setups (e.g. run_tests.sh and
# run_all.sh started together) on VENV/.gas-lock; fd 9 holds the lock until exit.
_gas_lock() {
    mkdir -p "$1"
    if command -v flock >/dev/null 2>&1; then exec 9>"$1/.gas-lock"; flock 9; fi
}

# _gas_wipe VENV [EXTRA...]: delete the venv proper (keeps the lock file, which we hold).
_gas_wipe() {
    local venv="${1:?}" d
    shift
    for d in bin lib lib64 include "$@" pyvenv.cfg .gas-stamp; do rm -rf "${venv:?}/$d"; done
}

# _gas_make_venv PY VENV [VENV_ARGS...]: e.g. --system-site-packages for a TF the base image owns
_gas_make_venv() {
    local py="$1" venv="$2"
    shift 2
    _gas_log "creating ${venv##*/} with $py ($("$py" -V 2>&1))${1:+ $*}"
    "$py" -m venv "$@" "$venv" || _gas_die "python -m venv failed"
}

# _gas_gpu_visible: 0 when nvidia-smi lists at least one GPU ("GPU 0: ..."), else 1.
_gas_gpu_visible() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU [0-9]'
}

# _gas_tf2_device: the TF 2.x build GAS_TF2_DEVICE asks for (auto, the default: gpu when a
# GPU is visible, else cpu); exits 1 naming the variable when it is something else.
_gas_tf2_device() {
    case "${GAS_TF2_DEVICE:-auto}" in
        auto) if _gas_gpu_visible; then echo gpu; else echo cpu; fi ;;
        cpu|gpu) echo "$GAS_TF2_DEVICE" ;;
        *) _gas_die "GAS_TF2_DEVICE must be auto, cpu or gpu (got '$GAS_TF2_DEVICE')" ;;
    esac
}

# _gas_overlay_lock BASE OVERLAY [DROP...]: print BASE's exact pins with each package that
# OVERLAY pins replaced by OVERLAY's pin, and the DROP packages left out (names compared as
# pip compares them: case and runs of -_. folded); comments and blank lines are dropped.
# The install list of a build that differs from a committed lock in a few named pins.
_gas_overlay_lock() {
    local base="$1" overlay="$2"
    shift 2
    awk -v drop="$*" '
        function norm(s) { s = tolower(s); gsub(/[-_.]+/, "-", s); return s }
        BEGIN { n = split(drop, d, " "); for (i = 1; i <= n; i++) dropped[norm(d[i])] = 1 }
        { line = $0; sub(/#.*/, "", line); gsub(/[ \t]+/, "", line)
          if (line == "") next
          split(line, part, "=="); name = norm(part[1]) }
        FNR == NR { pinned[name] = 1; order[++k] = line; next }
        !(name in pinned) && !(name in dropped) { print line }
        END { for (i = 1; i <= k; i++) print order[i] }' "$overlay" "$base"
}

# _gas_pip_bootstrap VENV PIP_PIN: start a fresh install log and install PIP_PIN.
_gas_pip_bootstrap() {
    local log="$1/.gas-install.log"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    : >"$log"
    _gas_log "bootstrapping $2 (log: ${1##*/}/.gas-install.log)"
    "$1/bin/python" -m pip install "$2" >>"$log" 2>&1 \
        || { tail -n 30 "$log" >&2; _gas_die "pip bootstrap failed"; }
}

# _gas_pip_install VENV LABEL PIP_INSTALL_ARGS...: install, time it, then `pip check`
# (conflicts are reported, not fatal).
_gas_pip_install() {
    local venv="$1" label="$2" log="$1/.gas-install.log" t0=$SECONDS
    shift 2
    _gas_log "installing $label"
    "$venv/bin/python" -m pip install "$@" >>"$log" 2>&1 \
        || { grep -v 'is ignored' "$log" | tail -n 30 >&2; _gas_die "pip install failed (see $log)"; }
    _gas_log "installed in $((SECONDS - t0)) s"
    if ! "$venv/bin/python" -m pip check >>"$log" 2>&1; then
        _gas_log "WARNING: pip check reports conflicts (continuing):"
        "$venv/bin/python" -m pip check 2>&1 | sed "s/^/[$_GAS_TAG]   /" || true
    fi
}

# _gas_finish VENV WANT NOTE [TF_MAJOR]: check that tensorflow (of major version TF_MAJOR,
# if given) imports with tf.compat.v1, then write the stamp: WANT, then "# NOTE".
_gas_finish() {
    local venv="$1" log="$1/.gas-install.log" check="" ver
    [ -z "${4:-}" ] || check="
assert tf.__version__.startswith(\"$4.\"), tf.__version__"
    ver="$(TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "import tensorflow as tf, numpy as np$check
tf.compat.v1.placeholder
print(\"tensorflow\", tf.__version__, \"numpy\", np.__version__)" 2>>"$log")" \
        || _gas_die "import tensorflow failed in ${venv##*/} (see $log)"
    _gas_log "verified: $ver"
    printf '%s\n# %s\n' "$2" "$3" >"$venv/.gas-stamp"
    _gas_log "venv ready: $venv/bin/python"
}

# _gas_dispatch SELF VAR VENV_DIR ARGS...: the last line of each setup script (SELF is its
# ${BASH_SOURCE[0]}).  Executed: run _gas_setup_main under `set -euo pipefail` and exit.
# Sourced: run it in a subshell (so `set -e` / exit cannot kill the caller's shell), then
# set VAR to <repo>/VENV_DIR/bin/python for the sourcing script; status 1 on failure.
_gas_dispatch() {
    local self="$1" var="$2" dir="$3"
    shift 3
    if [ "$self" = "$0" ]; then
        set -euo pipefail
        _gas_setup_main "$@"
        exit 0
    fi
    ( set -euo pipefail; _gas_setup_main "$@" ) || return 1
    printf -v "$var" '%s' "$(cd "$(dirname "$self")" && pwd)/$dir/bin/python"
}
