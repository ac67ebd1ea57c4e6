"""provenance.json: checksums of every input, the config, versions and the git commit, stable bytes."""

from __future__ import annotations

import ast
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


# --- the code a rule runs: its `code` param --------------------------------------------------


def small_package(root: Path) -> tuple[Path, Path]:
    """A package named like ours (a imports b and c, c is imported inside a function, d alone)
    and a script that imports a, in brackets over two lines, and only names d in its docstring."""
    package = root / "caserepro"
    package.mkdir()
    (package / "a.py").write_text("from caserepro import b\nimport caserepro.c as c\n")
    (package / "b.py").write_text("import numpy\n")
    (package / "c.py").write_text("def f():\n    from caserepro.b import x\n")
    (package / "d.py").write_text("y = 1\n")
    script = root / "job.py"
    script.write_text(
        '"""A job.\n\nfrom caserepro import `d`, in a docstring\n"""\n\nfrom caserepro.a import (\n    f,\n)\n'
    )
    return package, script


def test_a_script_runs_the_modules_it_imports_and_the_ones_they_import(tmp_path: Path):
    package, script = small_package(tmp_path)
    assert provenance.imported_modules(script, package) == ["a", "b", "c"]


def test_the_code_digest_follows_the_code_a_script_runs_and_nothing_else(tmp_path: Path):
    package, script = small_package(tmp_path)
    before = provenance.code_digest(script, package)
    (package / "d.py").write_text("y = 2\n")  # not run by the script
    assert provenance.code_digest(script, package) == before
    (package / "b.py").write_text("import numpy  # changed\n")  # run through a
    changed = provenance.code_digest(script, package)
    assert changed != before
    script.write_text(script.read_text() + "print(f)\n")
    assert provenance.code_digest(script, package) != changed


@pytest.mark.parametrize(
    "file",
    sorted([*provenance.PACKAGE_DIR.glob("*.py"), *(REPO / "workflow" / "scripts").glob("*.py")]),
    ids=lambda file: file.name,
)
def test_reading_import_statements_only_finds_what_parsing_the_whole_file_finds(file: Path):
    package = provenance.PACKAGE_DIR
    whole_file = ast.walk(ast.parse(file.read_text(encoding="utf-8")))
    assert provenance._package_imports(file, package) == provenance.modules_named(
        whole_file, package
    )


def test_every_rule_that_runs_a_script_passes_the_digest_of_that_script():
    rules = "".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
    blocks = re.split(r"(?m)^\s*rule ", rules)[1:]
    scripts = {b.split(":")[0]: re.search(r'script:\s+"\.\./scripts/(\w+\.py)"', b) for b in blocks}
    running = {rule: found.group(1) for rule, found in scripts.items() if found}
    assert len(running) == 11  # every rule but `tables`, which only gathers outputs
    for rule, script in running.items():
        block = next(b for b in blocks if b.startswith(f"{rule}:"))
        assert f'code=code_of("{script}")' in block, rule
