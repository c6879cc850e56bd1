"""What produced a number: git sha, package versions, TF build, machine."""
import os
import platform
import subprocess
import sys

from building_blocks.image.data import REPO_ROOT

PACKAGES = ("tensorflow", "intel-tensorflow", "tensorflow-gpu", "numpy", "protobuf", "absl-py",
            "gym", "atari-py", "matplotlib", "scipy")


CODE_PATHS = ("building_blocks", "dafl_baseline", "gas", "reproduce", "requirements.lock")


def portable_path(path):
    """An absolute path written relative to the repository root (as in portable_command)."""
    return os.path.relpath(path, REPO_ROOT) if os.path.isabs(path) else path


def portable_command(argv):
    """``argv`` joined, with every absolute path under the repository written relative to its
    root (``--results_dir /home/me/gas-repro/results`` → ``--results_dir results``), so a
    recorded command re-runs from the root of any checkout. Paths outside the repository are
    written relative to it too (``../shared/data``)."""
    words = []
    for word in argv:
        flag, value = ("", word)
        if word.startswith("--") and "=" in word:
            flag, value = word.split("=", 1)
            flag += "="
        words.append(flag + portable_path(value))
    return " ".join(words)


_GIT_SHA = []  # the first answer of this process: the code it loaded (see git_sha)


def git_sha():
    """HEAD's sha, with '-dirty' when tracked code differs from it; 'unknown' outside git.

    Read once per process and kept: a cell that runs for an hour records the commit whose code
    it loaded when it started (``reproduce/__main__.py`` reads it first thing), not a commit
    made while it ran."""
    if not _GIT_SHA:
        _GIT_SHA.append(_read_git_sha())
    return _GIT_SHA[0]


def _read_git_sha():
    try:
        sha = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT,
                                      stderr=subprocess.DEVNULL).decode().strip()
        dirty = subprocess.call(["git", "diff", "--quiet", "HEAD", "--"] + list(CODE_PATHS),
                                cwd=REPO_ROOT, stderr=subprocess.DEVNULL)
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GAS_GIT_SHA", "unknown")  # Docker: --build-arg GIT_SHA


def package_versions():
    import pkg_resources  # pylint: disable=g-import-not-at-top
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = pkg_resources.get_distribution(name).version
        except pkg_resources.DistributionNotFound:
            pass
    return versions


# The vector extensions oneDNN chooses its kernels by: cells made on CPUs that differ in them
# may differ in float rounding, hence in every number (README, *Performance*).
ONEDNN_ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name and the vector extensions of ONEDNN_ISA_FLAGS it has, e.g.
    'Intel(R) Xeon(R) Processor [avx2 avx512f]'; platform.processor() where /proc/cpuinfo is
    missing (the flags are then unknown)."""
    try:
        with open(cpuinfo) as f:
            text = f.read()
    except (IOError, OSError):
        return platform.processor() or "unknown"
    model, flags = "unknown", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return "%s [%s]" % (model, " ".join(f for f in ONEDNN_ISA_FLAGS if f in flags))


def machine_fields(record):
    """``record``'s CPU model for a manifest entry, where the record has one (cells made before
    it was recorded have none)."""
    return {"cpu_model": record["cpu_model"]} if record.get("cpu_model") else {}


def environment():
    from building_blocks.common.tf_compat import build_info  # pylint: disable=g-import-not-at-top
    return {
        "git_sha": git_sha(),
        "packages": package_versions(),
        "tf_build": build_info(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "docker_image": os.environ.get("GAS_DOCKER_IMAGE"),
    }
