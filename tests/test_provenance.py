"""provenance.json: checksums of every input, the config, versions and the git commit, stable bytes."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from caserepro import provenance
from caserepro.paths import RAW_TABLES, provenance_file, raw_file
from conftest import RAW_DIR, REPO

RAW_INPUTS = [raw_file(RAW_DIR, t) for t in RAW_TABLES]


def test_checksums_are_the_sha256_of_each_input():
    sums = provenance.input_checksums(RAW_INPUTS)
    for path in RAW_INPUTS:
        entry = sums[path.as_posix()]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == len(path.read_bytes())


def test_a_folder_outside_git_is_reported_as_such(tmp_path: Path):
    state = provenance.git_state(tmp_path)
    assert state == {"commit": None, "dirty": None, "note": provenance.NOT_A_CHECKOUT}


def test_the_commit_is_the_checked_out_one():
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("the repository is not a git checkout here")
    state = provenance.git_state(REPO)
    assert state["commit"] == head.stdout.strip()
    assert isinstance(state["dirty"], bool)


def test_versions_of_the_key_libraries_are_recorded():
    versions = provenance.package_versions()
    assert set(versions) == set(provenance.KEY_PACKAGES)
    import pandas

    assert versions["pandas"] == pandas.__version__
    assert provenance.package_versions(["no-such-distribution-xyz"]) == {
        "no-such-distribution-xyz": None
    }


def test_the_record_is_stable_sorted_json_without_timestamps():
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    git = {"commit": None, "dirty": None, "note": provenance.NOT_A_CHECKOUT}
    first = provenance.provenance_json(RAW_INPUTS, config, git)
    assert first == provenance.provenance_json(RAW_INPUTS, config, git)
    assert first.endswith("}\n")
    record = json.loads(first)
    assert list(record) == sorted(record) == ["config", "git", "inputs", "packages", "python"]
    assert record["config"] == config
    assert record["python"] == {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
    }
    assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", first), "no timestamps"


@pytest.mark.e2e
def test_the_pipeline_records_every_raw_input_and_the_config(pipeline_run: Path):
    record = json.loads(provenance_file(pipeline_run / "results").read_text(encoding="utf-8"))
    expected = [f"data/raw/{t}.csv" for t in RAW_TABLES] + ["config.yaml"]
    assert sorted(record["inputs"]) == sorted(expected)
    for name in expected:
        digest = hashlib.sha256((pipeline_run / name).read_bytes()).hexdigest()
        assert record["inputs"][name]["sha256"] == digest
    shipped = yaml.safe_load((pipeline_run / "config.yaml").read_text(encoding="utf-8"))
    assert record["config"]["thresholds"] == shipped["thresholds"]
    assert record["git"]["note"] == provenance.NOT_A_CHECKOUT  # the test copy has no .git


def test_a_config_file_inside_the_repository_is_named_relative_to_it(tmp_path: Path):
    assert provenance.in_workdir(Path.cwd() / "examples" / "wang2021" / "config.yaml") == Path(
        "examples/wang2021/config.yaml"
    )
    assert provenance.in_workdir(tmp_path / "config.yaml") == tmp_path / "config.yaml"
