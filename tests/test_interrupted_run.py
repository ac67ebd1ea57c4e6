"""A run killed with SIGKILL half-way, then resumed as the README says, ends byte-identical to a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import copy_repo, run_snakemake, snakemake_command
from test_determinism import differing, result_digests

#: Give up waiting for the run to reach the point where it is killed after this many seconds.
PATIENCE = 300


def kill_when_validating(root: Path) -> int:
    """Start `snakemake` in `root`, SIGKILL its whole process group while validated tables are
    being written (some exist, the job has not finished), and return its exit status."""
    validated = root / "results" / "validated"
    process = subprocess.Popen(
        snakemake_command(),
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + PATIENCE
    while process.poll() is None and time.monotonic() < deadline:
        if validated.is_dir() and any(validated.iterdir()):
            break
        time.sleep(0.01)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


@pytest.mark.e2e
def test_killed_run_resumed_as_the_readme_says_matches_a_clean_run(
    pipeline_run: Path, tmp_path: Path
):
    root = copy_repo(tmp_path / "killed")
    assert kill_when_validating(root) == -signal.SIGKILL, (
        "the run finished before it could be killed"
    )
    assert (root / ".snakemake" / "locks").is_dir() and any(
        (root / ".snakemake" / "locks").iterdir()
    )
    assert not (root / "results" / "tables").exists(), "killed before the paper's tables were built"

    # README: a killed run leaves Snakemake's lock; `snakemake --unlock` once, then `snakemake`.
    run_snakemake(root, "--unlock")
    run_snakemake(root)

    assert differing(result_digests(pipeline_run), result_digests(root)) == []
