"""Shared fixtures: the repository, the paper's validated data, and one real pipeline run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from caserepro.validate import load_raw

REPO = Path(__file__).resolve().parents[1]
RAW_DIR = REPO / "data" / "raw"
EXPECTED = REPO / "tests" / "expected"
BIN = Path(sys.executable).parent


def snakemake_command(*args: str) -> list[str]:
    """The snakemake of this environment, with arguments."""
    return [str(BIN / "snakemake"), *args]


def copy_repo(destination: Path) -> Path:
    """Copy the project's own files (tracked or not ignored) into `destination`, as a fresh clone has them."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real snakemake in `workdir` (the README's command) and capture its output;
    `env` adds to the environment."""
    result = subprocess.run(
        snakemake_command(*args),
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def edit_measurement(
    raw_dir: Path,
    timepoint: str,
    parameter: str,
    source: str,
    value: str,
    method: str | None = None,
) -> None:
    """Change one printed value in a copy of measurements.csv (method: only rows of that method)."""
    path = raw_dir / "measurements.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    hit = (
        (frame["timepoint"] == timepoint)
        & (frame["parameter"] == parameter)
        & (frame["source"] == source)
    )
    if method is not None:
        hit &= frame["method"] == method
    assert hit.sum() == 1, f"{timepoint}/{parameter}/{source}/{method} matches {hit.sum()} rows"
    frame.loc[hit, "value"] = value
    frame.to_csv(path, index=False, lineterminator="\n")


@pytest.fixture(scope="session")
def config() -> dict:
    """config.yaml as shipped (tests that change it deep-copy it first)."""
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def tables() -> dict[str, pd.DataFrame]:
    """The paper's raw data, validated and typed."""
    return load_raw(RAW_DIR)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean `snakemake` run of the whole pipeline in a temporary copy; returns the copy's root."""
    root = copy_repo(tmp_path_factory.mktemp("clean_run"))
    run_snakemake(root)
    return root
