"""The single-process floor: run the workflow's own scripts, in the workflow's order, in ONE process.

A plan (written by benchmarks/run.py from a real Snakemake run) lists every job Snakemake ran, in
the order they started, with the inputs, outputs, params, log and config Snakemake handed to the
script. Here each script runs in this one interpreter with an equivalent `snakemake` object, so the
libraries are imported once and no scheduler is involved: what is left is the work itself.

    python benchmarks/floor.py PLAN.json [--rules validate_raw,derive_metrics] \
        [--replace OLD=NEW ...] [--timings OUT.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import runpy
import sys
import time
from types import SimpleNamespace


class Named(list):
    """A list whose items also have names, like Snakemake's input/output/params/log."""

    def __init__(self, values: list, names: dict[str, list]):
        super().__init__(values)
        self._names = names
        for name, (start, end) in names.items():
            setattr(self, name, values[start] if end is None else Named(values[start:end], {}))

    def __getitem__(self, key):
        return getattr(self, key) if isinstance(key, str) else super().__getitem__(key)

    def items(self):
        return [(name, getattr(self, name)) for name in self._names]

    def keys(self):
        return list(self._names)


def _replace(value, pairs: list[tuple[str, str]]):
    if isinstance(value, str):
        for old, new in pairs:
            if value == old or value.startswith(old.rstrip("/") + "/"):
                return new + value[len(old) :]
        return value
    if isinstance(value, list):
        return [_replace(v, pairs) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, pairs) for k, v in value.items()}
    return value


def snakemake_object(job: dict, pairs: list[tuple[str, str]]) -> SimpleNamespace:
    """An object with the attributes a workflow script reads from `snakemake`."""
    fields = {
        key: Named(_replace(job[key]["values"], pairs), job[key]["names"])
        for key in ("input", "output", "params", "log", "wildcards", "resources")
    }
    return SimpleNamespace(
        **fields,
        config=_replace(job["config"], pairs),
        threads=job["threads"],
        rule=job["rule"],
        scriptdir=job["scriptdir"],
        bench_iteration=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("plan")
    parser.add_argument("--rules", default="", help="comma-separated rules to run (default: all)")
    parser.add_argument("--replace", action="append", default=[], help="OLD=NEW path prefix")
    parser.add_argument("--timings", help="write per-job seconds and peak memory here (JSON)")
    parser.add_argument("--keep-going", action="store_true", help="record a failing job, go on")
    args = parser.parse_args()
    with open(args.plan, encoding="utf-8") as handle:
        plan = json.load(handle)
    wanted = set(filter(None, args.rules.split(",")))
    pairs = [tuple(item.split("=", 1)) for item in args.replace]
    timings = []
    for job in plan["jobs"]:
        if wanted and job["rule"] not in wanted:
            continue
        start = time.perf_counter()
        error = None
        try:
            runpy.run_path(job["script"], init_globals={"snakemake": snakemake_object(job, pairs)})
        except SystemExit as stop:
            if stop.code not in (None, 0):
                error = f"exited with {stop.code}"
        except Exception as failure:  # noqa: BLE001  (reported, the benchmark goes on)
            if not args.keep_going:
                raise
            error = f"{type(failure).__name__}: {failure}"
        if error and not args.keep_going:
            sys.exit(f"floor: {job['rule']} {error}")
        timings.append(
            {"rule": job["rule"], "seconds": time.perf_counter() - start, "error": error}
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.timings:
        with open(args.timings, "w", encoding="utf-8") as handle:
            json.dump({"jobs": timings, "peak_mb": peak_mb}, handle, indent=2)


if __name__ == "__main__":
    main()
