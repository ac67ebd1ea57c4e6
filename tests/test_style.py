"""The code base passes its own linters: ruff, snakefmt and `snakemake --lint`."""

from __future__ import annotations

import subprocess

from conftest import BIN, REPO, copy_repo, run_snakemake

PYTHON_PATHS = ["workflow", "tests", "benchmarks"]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = run(str(BIN / "ruff"), "check", *[p for p in PYTHON_PATHS if (REPO / p).exists()])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run(
        str(BIN / "ruff"), "format", "--check", *[p for p in PYTHON_PATHS if (REPO / p).exists()]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    result = run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_says_nothing(tmp_path):
    result = run_snakemake(copy_repo(tmp_path), "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr, result.stdout + result.stderr
