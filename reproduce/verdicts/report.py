"""<results>/REPORT.md, regenerated from the result CSVs, the archival check (against the
paper), the reference check (against the shipped reference, for a run outside it) and the
manifest."""
import collections
import json
import os

from building_blocks.image.data import REPO_ROOT
from building_blocks.common.io_utils import atomic_write_text
from building_blocks.common.progress import format_duration
from reproduce.core import diverged, run_folders, tables
from reproduce.verdicts import check, reference_check

DEVIATIONS = os.path.join(REPO_ROOT, "DEVIATIONS.md")
TITLES = {"table1": "Table 1: test accuracy (%) of data-free distillation",
          "table6": "Table 6: classic-control returns", "table7": "Table 7: ALE scores"}
FIGURES = (("figures/table1.png", "Table 1, ours beside the paper"),
           ("figures/samples_mnist.png", "MNIST: real images beside DAFL and GAS samples"),
           ("figures/samples_fashion_mnist.png",
            "Fashion-MNIST: real images beside DAFL and GAS samples"),
           ("figures/samples_cifar10.png", "CIFAR-10: real images beside DAFL and GAS samples"),
           ("figures/fig3_relative_scores.png", "Figure 3: student / teacher score (Table 6)"),
           ("figures/fig4_samples_pong.png", "Figure 4: Pong, real frames beside GAS samples"),
           ("figures/fig4_samples_enduro.png", "Figure 4: Enduro, real frames beside GAS samples"))


def _reference(ref):
    """' · reference R (verdict)' for a run outside the reference, else ''."""
    if ref is None:
        return ""
    if ref["reference_n"] in ("", "0"):
        return " · reference – (*%s*)" % ref["verdict"]
    return " · reference %s%s (*%s*)" % (ref["reference_mean"], (" ± " + ref["reference_std"])
                                         if ref["reference_std"] else "", ref["verdict"])


def _cell(row, ref=None):
    if row["verdict"] in ("not run", "diverged"):
        return row["verdict"] + _reference(ref)
    ours = row["mean"] + ((" ± " + row["std"]) if row["std"] else "") + " (n=%s%s)" % (
        row["n"], diverged.count_suffix(row.get("note", "")))
    paper = row["paper_mean"] + ((" ± " + row["paper_std"]) if row["paper_std"] else "")
    relative = ""
    if row.get("teacher_ratio"):  # our teacher was not reproduced: judged relative to it
        relative = " (÷ teacher %s, paper %s)" % (row["teacher_ratio"],
                                                  row["paper_teacher_ratio"])
    return "%s · paper %s · *%s*%s%s" % (ours, paper or "–", row["verdict"], relative,
                                         _reference(ref))


def _table(name, rows, references):
    tasks = list(collections.OrderedDict.fromkeys(r["task"] for r in rows))
    methods = list(collections.OrderedDict.fromkeys(r["method"] for r in rows))
    by_key = {(r["method"], r["task"]): r for r in rows}
    lines = ["### %s" % TITLES.get(name, name), "",
             "| method | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
    for method in methods:
        lines.append("| %s | %s |" % (method, " | ".join(
            _cell(by_key[(method, t)], references.get((name, method, t)))
            if (method, t) in by_key else "–" for t in tasks)))
    return "\n".join(lines) + "\n"


def _reference_section(rows, reference_dir):
    """Every number of the run beside the shipped reference's (reference_check.py)."""
    if not rows:
        return []
    lines = ["## Beside the shipped reference", "",
             "**%s** (`%s`; verdicts: reproduce/verdicts/reference_check.py)" % (
                 reference_check.summary(rows, reference_dir), reference_check.FILE_NAME), "",
             "| table | method | task | this run | reference | verdict |", "|---" * 6 + "|"]
    for r in rows:
        ours = "–" if r["verdict"] == "not run" else "%s%s (n=%s)" % (
            r["mean"], (" ± " + r["std"]) if r["std"] else "", r["n"])
        ref = "–" if r["reference_n"] in ("", "0") else "%s%s (n=%s, %s)" % (
            r["reference_mean"], (" ± " + r["reference_std"]) if r["reference_std"] else "",
            r["reference_n"], r["reference_profile"])
        lines.append("| %s | %s | %s | %s | %s | %s |" % (r["table"], r["method"], r["task"],
                                                          ours, ref, r["verdict"]))
    return lines + [""]


# The manifests the tables write (table1/tables.py, rl/tables.py) and what their cells are.
MANIFESTS = (("manifest.json", "Table 1 and Figure 2"), ("manifest_table6.json", "Table 6"),
             ("manifest_table7.json", "Table 7"))


def _read_manifest(results_dir, name="manifest.json"):
    path = os.path.join(results_dir, name)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _seed_list(seeds):
    """[0, 1, 2, 3, 4] -> '0-4'; [0, 2] -> '0, 2'."""
    seeds = sorted(set(seeds))
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return "%d-%d" % (seeds[0], seeds[-1])
    return ", ".join(str(s) for s in seeds)


def _cells_lines(results_dir):
    """One line per manifest: its cells' count and seeds; then the git shas and CPU models of
    every cell of every manifest (cells of one table may come from several machines)."""
    lines, shas, cpus = [], set(), collections.Counter()
    for name, what in MANIFESTS:
        cells = _read_manifest(results_dir, name).get("cells") or []
        if not cells:
            continue
        lines.append("- %s (`%s`): %d cells, seeds %s" % (
            what, name, len(cells), _seed_list(c["seed"] for c in cells if "seed" in c)))
        shas.update(c["git_sha"] for c in cells if c.get("git_sha"))
        cpus.update(c.get("cpu_model") or "not recorded" for c in cells)
    lines.append("- git sha of the cells: %s" % ", ".join(sorted(shas)))
    lines.append("- CPUs of the cells: %s" % "; ".join(
        "%s (%d cells)" % (cpu, n) for cpu, n in sorted(cpus.items(), key=lambda kv: -kv[1])))
    return lines


def _header(results_dir, rows, references, reference_dir):
    """Title, provenance line, whose numbers these are, and the verdict counts."""
    folder = run_folders.display(results_dir)
    is_reference = run_folders.is_reference(results_dir, reference_dir)
    parts = ["# gas-repro report", "",
             "Generated by `python -m reproduce report` from `%s/*.csv`, "
             "`%s/archival_check.csv` and `%s/manifest*.json`; do not edit by hand."
             % (folder, folder, folder),
             "This folder is the shipped reference." if is_reference else
             "This is a run outside the shipped reference (`%s`): each number is shown beside "
             "the paper's and the reference's." % run_folders.display(reference_dir),
             "Verdicts: |ours − paper| within σ or 2σ, σ = max(paper σ, our σ across seeds).", "",
             "**%s**" % check.summary(rows), ""]
    if references:
        parts += ["**%s**" % reference_check.summary(references, reference_dir), ""]
    return parts


def _run_section(results_dir, manifest):
    """## Run: profile and seeds, one line per run_all invocation record, cell wall time, git
    shas, TensorFlow and packages, machine."""
    run = manifest.get("run_all") or {}
    env = manifest.get("tables_written_by") or {}
    # A run of Table 6 or 7 alone writes no manifest.json: take the profile from its manifest.
    profile = manifest.get("profile") or next(
        (m["profile"] for m in (_read_manifest(results_dir, name) for name, _ in MANIFESTS)
         if m.get("profile")), None)
    parts = ["", "## Run", "", "- profile: %s" % profile]
    parts += _cells_lines(results_dir)
    # One line per run_all invocation record (results/<profile>/run_all_<families>.json).
    # Read afresh: a later run of another family updates its record, not manifest.json.
    by_family = dict(manifest.get("run_all_by_family") or {})
    if profile:
        by_family.update(tables.run_all_records(results_dir, profile))
    for families, info in sorted(by_family.items()):
        earlier = info.get("earlier_invocations") or []
        parts.append("- `%s`: `%s`, wall %s%s (%s job(s) × %s thread(s)), %s cells run, "
                     "%d failed%s" % (
                         families, info.get("command", "?"), format_duration(info.get("wall_s", 0)),
                         " + %s in %d earlier invocation(s)" % (
                             format_duration(sum(e.get("wall_s", 0) for e in earlier)),
                             len(earlier)) if earlier else "",
                         info.get("jobs"), info.get("threads_per_job"), info.get("cells_run"),
                         len(info.get("failed") or []),
                         ", %d diverged" % len(info["diverged"]) if info.get("diverged") else ""))
    parts += ["- sum of cell wall times (Table 1 and Figure 2 cells): %s"
              % format_duration(manifest.get("total_cell_wall_s", 0)),
              "- TensorFlow: %s; packages: %s" % (run.get("tf_build") or env.get("tf_build"),
                                                  run.get("packages") or env.get("packages")),
              "- machine of the last Table 1 / Figure 2 tables: %s, %s CPUs%s" % (
                  run.get("platform") or env.get("platform"),
                  run.get("cpu_count") or env.get("cpu_count"),
                  ", " + run["cpu_model"] if run.get("cpu_model") else ""), ""]
    return parts


def write_report(results_dir, log=print, reference_dir=run_folders.REFERENCE_DIR):
    """Writes <results_dir>/REPORT.md; outside the reference folder, every number also beside
    the reference's (and reference_check.csv)."""
    references = reference_check.run_reference_check(results_dir, log, reference_dir)
    by_reference = {(r["table"], r["method"], r["task"]): r for r in references}
    try:
        rows = check.run_check(results_dir, log=lambda _: None)
    except check.CheckError:  # no table with paper numbers yet (e.g. only fig2 was run)
        rows = []
    parts = _header(results_dir, rows, references, reference_dir)
    parts += ["## Results", ""]
    for name in collections.OrderedDict.fromkeys(r["table"] for r in rows):
        parts.append(_table(name, [r for r in rows if r["table"] == name], by_reference))
    from reproduce.fig2 import fig2  # pylint: disable=g-import-not-at-top
    parts += fig2.report_section(results_dir)
    parts += _reference_section(references, reference_dir)
    parts += ["## Figures", ""]
    for path, caption in FIGURES:
        if os.path.exists(os.path.join(results_dir, path)):
            parts.append("![%s](%s)" % (caption, path))
    parts += _run_section(results_dir, _read_manifest(results_dir))
    if os.path.exists(DEVIATIONS):
        with open(DEVIATIONS) as f:
            parts.append(f.read().replace("# Deviations", "## Deviations", 1))
    path = os.path.join(results_dir, "REPORT.md")
    atomic_write_text(path, "\n".join(parts) + "\n")
    log("report: wrote %s" % run_folders.display(path))
    return path
