"""Two clean runs in different directories give byte-identical files in results/."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import copy_repo, run_snakemake

#: Logs hold no timestamps and the manuscript's inputs and HTML are byte-stable; skipped are only
#: the rendered PDF, in which Typst stamps the time of rendering (this Typst, through its Python
#: binding, cannot be given a fixed one), and Quarto's log of it (it names the scratch folder).
#: (Snakemake's own records live in .snakemake/, outside results/.)
SKIPPED: tuple[str, ...] = ("results/manuscript/index.pdf", "results/logs/render_manuscript.log")


def result_digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under root/results, keyed by its path relative to root."""
    files = sorted(p for p in (root / "results").rglob("*") if p.is_file())
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
        if not p.relative_to(root).as_posix().startswith(SKIPPED or ("\0",))
    }


def differing(first: dict[str, str], second: dict[str, str]) -> list[str]:
    """Paths present in only one run, or with different bytes."""
    return sorted(p for p in first.keys() | second.keys() if first.get(p) != second.get(p))


@pytest.mark.e2e
def test_two_clean_runs_in_different_directories_give_identical_bytes(
    pipeline_run: Path, tmp_path: Path
):
    other = copy_repo(tmp_path / "a" / "different" / "place")
    run_snakemake(other)
    first, second = result_digests(pipeline_run), result_digests(other)
    assert len(first) > 10 and "results/provenance.json" in first
    assert differing(first, second) == []
