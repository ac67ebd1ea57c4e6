"""Benchmarks of caserepro: what the workflow costs, and how the cost grows with the number of cases.

    .venv/bin/python benchmarks/run.py                       # everything, sizes 1 1000 10000 100000
    .venv/bin/python benchmarks/run.py --sizes 1 1000 --only scaling

Writes benchmarks/results/{rebuild,noop,scaling}.json (reported, never asserted):
1. rebuild: a clean `snakemake` of the paper's pipeline (no Quarto render) against the
   single-process floor (benchmarks/floor.py: the same scripts, in the same order, in one
   Python process), measured alternately;
2. noop: `snakemake` with nothing to do against `snakemake --version`;
3. scaling: validation + derivation + audit for synthetic cohorts of each size, twice: the
   workflow's own scripts in one process (seconds per stage, peak memory, rows per second), and
   the real `snakemake --cores 2` up to those rules (wall time, the largest process's peak
   memory): the figure the 100k-cases-in-60-s target is judged on.
All runs happen in a copy of the repository under --work (default /tmp/caserepro-bench).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
BIN = Path(sys.executable).parent
SCALING_RULES = ("validate_raw", "derive_metrics", "audit_part", "audit_consistency")
CASE_TABLES = ("cases", "timepoints", "infusions", "measurements", "claims")


def copy_repo(destination: Path) -> Path:
    """The project's own files (tracked or not ignored), as a fresh clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    if destination.exists():
        shutil.rmtree(destination)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not name.startswith("benchmarks/results/"):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of one command; fail loudly if it fails."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return seconds


# Runs a command and reports the peak RSS of its largest descendant (ru_maxrss of waited children).
_PEAK_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)"
)


def timed_with_peak(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds of one command and the peak MB of its largest process; fail loudly if it fails."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *command], cwd=cwd, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1]) / 1024


def clean(workdir: Path) -> None:
    """Remove everything a run leaves behind, as on a fresh clone."""
    for name in ("results", ".snakemake"):
        shutil.rmtree(workdir / name, ignore_errors=True)


def _plain(value):
    """A value as JSON can hold it: a tuple (a param such as plot_audit's codebook) as a list,
    any other object as its text."""
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, (int, float, bool, str, dict, list)):
        return value
    return str(value)


def _named(container) -> dict:
    names = {name: [start, end] for name, (start, end) in getattr(container, "_names", {}).items()}
    return {"values": [_plain(v) for v in container], "names": names}


def capture_plan(workdir: Path) -> dict:
    """Run snakemake once keeping its generated scripts; read back each job's `snakemake` object."""
    clean(workdir)
    timed([str(BIN / "snakemake"), "--skip-script-cleanup", "--quiet"], workdir)
    scripts = sorted(
        (workdir / ".snakemake" / "scripts").glob("*.py"), key=lambda p: p.stat().st_mtime_ns
    )
    jobs = []
    for kept in scripts:
        tree = ast.parse(kept.read_text(encoding="utf-8").splitlines()[1])
        call = next(
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "loads"
        )
        obj = pickle.loads(ast.literal_eval(call.args[0]))  # the object Snakemake handed the script
        rule = obj.rule
        jobs.append(
            {
                "rule": rule,
                "script": str(workdir / "workflow" / "scripts" / kept.name.split(".", 1)[1]),
                "scriptdir": str(workdir / "workflow" / "scripts"),
                "config": json.loads(json.dumps(obj.config, default=str)),
                "threads": obj.threads,
                **{
                    key: _named(getattr(obj, key))
                    for key in ("input", "output", "params", "log", "wildcards")
                },
                "resources": {"values": [], "names": {}},
            }
        )
    return {"jobs": json.loads(json.dumps(jobs, default=str))}


def floor_command(plan: Path, *extra: str) -> list[str]:
    return [sys.executable, str(REPO / "benchmarks" / "floor.py"), str(plan), *extra]


def bench_rebuild(workdir: Path, plan: Path, repeats: int) -> dict:
    """Clean snakemake rebuild vs the single-process floor, alternating which goes first."""
    runs = {"snakemake": [], "floor": []}
    commands = {"snakemake": [str(BIN / "snakemake"), "--quiet"], "floor": floor_command(plan)}
    for i in range(repeats):
        order = ("snakemake", "floor") if i % 2 == 0 else ("floor", "snakemake")
        for name in order:
            clean(workdir)
            runs[name].append(timed(commands[name], workdir))
    snakemake_s, floor_s = statistics.median(runs["snakemake"]), statistics.median(runs["floor"])
    return {
        "what": "clean rebuild of the paper's pipeline (no Quarto render) vs one Python process running the same scripts",
        "jobs": [job["rule"] for job in json.loads(plan.read_text())["jobs"]],
        "seconds": runs,
        "median_snakemake_s": snakemake_s,
        "median_floor_s": floor_s,
        "ratio": snakemake_s / floor_s,
        "target_ratio": 1.5,
    }


def bench_noop(workdir: Path, repeats: int) -> dict:
    """A no-op snakemake (everything up to date) vs `snakemake --version`, alternating."""
    timed([str(BIN / "snakemake"), "--quiet"], workdir)  # make sure everything is up to date
    runs = {"noop": [], "version": []}
    commands = {
        "noop": [str(BIN / "snakemake"), "--quiet"],
        "version": [str(BIN / "snakemake"), "--version"],
    }
    for i in range(repeats):
        for name in ("noop", "version") if i % 2 == 0 else ("version", "noop"):
            runs[name].append(timed(commands[name], workdir))
    noop_s, version_s = statistics.median(runs["noop"]), statistics.median(runs["version"])
    return {
        "what": "snakemake with nothing to do vs snakemake --version",
        "seconds": runs,
        "median_noop_s": noop_s,
        "median_version_s": version_s,
        "ratio": noop_s / version_s,
        "target_ratio": 1.5,
    }


def scaling_targets(results: Path) -> list[Path]:
    """The files the derivation and the audit write (validation runs because they need it)."""
    from caserepro import paths

    return [
        *paths.metrics_files(results).values(),
        paths.audit_file(results),
        paths.audit_summary_file(results),
    ]


def count_rows(folder: Path) -> int:
    """Data rows in the raw CSV files of a cohort (newlines minus headers; no cell holds a newline)."""
    total = 0
    for csv in folder.glob("*.csv"):
        with open(csv, "rb") as handle:
            total += (
                sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
            )
    return total


def cohort(cache: Path, cases: int, seed: int) -> tuple[Path, float | None]:
    """A synthetic cohort of `cases` cases, generated once and cached."""
    generator = REPO / "workflow" / "caserepro" / "synthetic.py"
    version = hashlib.sha256(generator.read_bytes()).hexdigest()[:12]  # regenerate when it changes
    folder = cache / f"cohort-{cases}-seed{seed}-{version}"
    if (folder / "README.md").exists():
        return folder, None
    generate = [
        sys.executable,
        "-m",
        "caserepro.synthetic",
        "--cases",
        str(cases),
        "--seed",
        str(seed),
    ]
    return folder, timed(
        [*generate, "--out", str(folder), "--template", str(REPO / "data" / "raw")], REPO
    )


def _available_mb() -> float:
    with open("/proc/meminfo", encoding="ascii") as handle:
        fields = dict(line.split(":", 1) for line in handle)
    return int(fields["MemAvailable"].split()[0]) / 1024


def _expected_peak_mb(done: list[dict], cases: int) -> float:
    """Peak memory of a run of `cases`, extrapolated linearly from the smallest and largest runs."""
    measured = sorted((run for run in done if "peak_mb" in run), key=lambda run: run["cases"])
    if len(measured) < 2:
        return 0.0
    low, high = measured[0], measured[-1]
    slope = (high["peak_mb"] - low["peak_mb"]) / (high["cases"] - low["cases"])
    return high["peak_mb"] + slope * (cases - high["cases"])


def bench_scaling(
    workdir: Path, plan: Path, sizes: list[int], seed: int, cache: Path, repeats: int
) -> dict:
    """Validation + derivation + audit of synthetic cohorts, one fresh process per size, then
    `repeats` real snakemake runs (their median wall time, and the largest peak)."""
    rows_out = []
    for cases in sizes:
        needed = _expected_peak_mb(rows_out, cases)
        available = _available_mb()
        if needed > 0.8 * available:
            rows_out.append(
                {
                    "cases": cases,
                    "skipped": f"expected peak {needed:.0f} MB (linear in cases from the runs so far) exceeds "
                    f"80% of the {available:.0f} MB available; not run",
                }
            )
            print(json.dumps(rows_out[-1]), flush=True)
            continue
        folder, generated_s = cohort(cache, cases, seed)
        results = cache / f"results-{cases}"
        shutil.rmtree(results, ignore_errors=True)
        timings = cache / f"timings-{cases}.json"
        command = floor_command(
            plan,
            "--rules",
            ",".join(SCALING_RULES),
            "--replace",
            f"data/raw={folder}",
            "--replace",
            f"results={results}",
            "--timings",
            str(timings),
            "--keep-going",
        )
        wall = timed(command, workdir)
        measured = json.loads(timings.read_text())
        stages = {job["rule"]: job["seconds"] for job in measured["jobs"] if not job["error"]}
        failed = {job["rule"]: job["error"] for job in measured["jobs"] if job["error"]}
        snakemake_runs = []
        for _ in range(repeats):  # this machine's speed varies from run to run: the median
            shutil.rmtree(results, ignore_errors=True)
            snakemake_runs.append(
                timed_with_peak(
                    [
                        str(BIN / "snakemake"),
                        *map(str, scaling_targets(results)),
                        "--cores",
                        "2",
                        "--quiet",
                        "--config",
                        f"raw_dir={folder}",
                        f"results_dir={results}",
                    ],
                    workdir,
                )
            )
        shutil.rmtree(results, ignore_errors=True)
        snakemake_s = statistics.median(seconds for seconds, _ in snakemake_runs)
        snakemake_peak = max(peak for _, peak in snakemake_runs)
        rows = count_rows(folder)
        work = sum(stages.values())
        rows_out.append(
            {
                "cases": cases,
                "rows": rows,
                "stage_seconds": stages,
                "seconds": work,
                "process_wall_s": wall,
                "peak_mb": measured["peak_mb"],
                "rows_per_s": rows / work,
                "snakemake_2_cores_wall_s": snakemake_s,
                "snakemake_2_cores_runs_s": [seconds for seconds, _ in snakemake_runs],
                "snakemake_largest_process_peak_mb": snakemake_peak,
                "generate_s": generated_s,
                "failed_stages": failed,
            }
        )
        print(json.dumps(rows_out[-1]), flush=True)
    return {
        "what": "validation + derivation + audit on synthetic cohorts: the workflow's scripts in one "
        "process (stage_seconds, seconds, peak_mb, rows_per_s) and real snakemake --cores 2 "
        "(snakemake_2_cores_wall_s: the median of snakemake_2_cores_runs_s; "
        "snakemake_largest_process_peak_mb: the largest of those runs)",
        "seed": seed,
        "stages": list(SCALING_RULES),
        "runs": rows_out,
        "target": "100k cases <= 60 s on 2 cores, near-linear growth",
    }


def machine() -> dict:
    version = subprocess.run(
        [str(BIN / "snakemake"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": os.getloadavg(),
        "python": platform.python_version(),
        "snakemake": version,
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write(name: str, payload: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS / f"{name}.json.tmp"
    tmp.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(RESULTS / f"{name}.json")
    print(f"wrote {RESULTS / f'{name}.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 10000, 100000])
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs per comparison (alternating), and snakemake runs per cohort size",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=["rebuild", "noop", "scaling"], nargs="+")
    parser.add_argument("--work", type=Path, default=Path("/tmp/caserepro-bench"))
    args = parser.parse_args()
    only = set(args.only or ["rebuild", "noop", "scaling"])
    args.work.mkdir(parents=True, exist_ok=True)
    workdir = copy_repo(args.work / "repo")
    plan = args.work / "plan.json"
    plan.write_text(json.dumps(capture_plan(workdir), indent=1), encoding="utf-8")
    if "rebuild" in only:
        write("rebuild", bench_rebuild(workdir, plan, args.repeats))
    if "noop" in only:
        write("noop", bench_noop(workdir, max(args.repeats, 5)))
    if "scaling" in only:
        write(
            "scaling", bench_scaling(workdir, plan, args.sizes, args.seed, args.work, args.repeats)
        )


if __name__ == "__main__":
    main()
