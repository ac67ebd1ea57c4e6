"""What a rebuild was made from: input checksums, the config, library versions and the git commit.

The record is deterministic (sorted keys, no timestamps, no host names or absolute paths), so the
same inputs and environment give a byte-identical `provenance.json`; the manuscript's appendix
reads it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions decide what the pipeline computes and draws.
KEY_PACKAGES: tuple[str, ...] = (
    "caserepro",
    "matplotlib",
    "numpy",
    "pandas",
    "pandera",
    "pyarrow",
    "pyyaml",
    "seaborn",
    "snakemake",
)
NOT_A_CHECKOUT = "not a git checkout (or git is not installed)"
#: The package's own folder: the modules a workflow script can import from it.
PACKAGE_DIR = Path(__file__).parent


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as lowercase hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_digest(script: str | Path, package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 of a workflow script and of every module of the package it runs
    (`imported_modules`).

    A rule passes it as a param, so Snakemake's `params` rerun trigger reruns the job when the code
    it runs changes, and only then: Snakemake itself does not look into imported modules."""
    modules = imported_modules(script, package_dir)
    files = [Path(script), *(package_dir / f"{name}.py" for name in modules)]
    listing = "".join(f"{sha256_file(file)}  {file.name}\n" for file in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def imported_modules(source: str | Path, package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The package's modules a Python file imports, directly or through one another, sorted."""
    found: set[str] = set()
    todo = [Path(source)]
    while todo:
        for name in _package_imports(todo.pop(), package_dir):
            if name not in found:
                found.add(name)
                todo.append(package_dir / f"{name}.py")
    return sorted(found)


@cache
def _package_imports(file: Path, package_dir: Path) -> frozenset[str]:
    """The package's modules one file imports (`from caserepro import x`, `from caserepro.x
    import ...`, `import caserepro.x`), each file read once per process. Only its import
    statements are parsed (`_import_statements` finds them): parsing whole modules would slow
    every start of Snakemake."""
    nodes: list[ast.stmt] = []
    for statement in _import_statements(package_dir.name).findall(file.read_text(encoding="utf-8")):
        try:
            nodes += ast.parse(statement.strip()).body
        except SyntaxError:  # a line of text that only looks like an import (in a docstring)
            continue
    return modules_named(nodes, package_dir)


def modules_named(nodes: Iterable[ast.AST], package_dir: Path) -> frozenset[str]:
    """The package's modules that import statements (among other nodes) name: `x` of
    `from caserepro import x`, `from caserepro.x import ...` and `import caserepro.x`."""
    package = package_dir.name
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module == package:
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{package}."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith(f"{package}.")
            )
    return frozenset(name for name in names if (package_dir / f"{name}.py").exists())


@cache
def _import_statements(package: str) -> re.Pattern[str]:
    """An import statement that names `package`, at any indent, in brackets over several lines."""
    from_ = rf"from[ \t]+{package}(?:\.\w+)*[ \t]+import[ \t]+(?:\([^)]*\)|.*)"
    return re.compile(rf"^[ \t]*(?:{from_}|import[ \t]+{package}\..*)$", re.MULTILINE)


def in_workdir(path: str | Path) -> Path:
    """A path relative to the working folder when it lies inside it (Snakemake names a
    `--configfile` by its absolute path: the provenance would then differ between clones)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path)


def input_checksums(files: Iterable[str | Path]) -> dict[str, dict[str, Any]]:
    """SHA-256 and size of every input, keyed by its path as the workflow names it."""
    return {
        Path(f).as_posix(): {"sha256": sha256_file(f), "bytes": Path(f).stat().st_size}
        for f in files
    }


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None where it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def python_info() -> dict[str, str]:
    """Python implementation and version (no build date or host, which would vary between runs)."""
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
    }


def _git(directory: str | Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_state(directory: str | Path) -> dict[str, Any]:
    """The commit checked out in `directory` and whether tracked files differ from it."""
    commit = _git(directory, "rev-parse", "--verify", "HEAD")
    if not commit:
        return {"commit": None, "dirty": None, "note": NOT_A_CHECKOUT}
    changes = _git(directory, "status", "--porcelain", "--untracked-files=no")
    dirty = None if changes is None else bool(changes)
    note = "tracked files differ from the commit" if dirty else "clean checkout"
    return {"commit": commit, "dirty": dirty, "note": note}


def build_provenance(
    inputs: Iterable[str | Path], config: Mapping[str, Any], git: Mapping[str, Any]
) -> dict[str, Any]:
    """The provenance record: inputs' checksums, the config, library and Python versions, git."""
    return {
        "config": dict(config),
        "git": dict(git),
        "inputs": input_checksums(inputs),
        "packages": package_versions(),
        "python": python_info(),
    }


def provenance_json(
    inputs: Iterable[str | Path], config: Mapping[str, Any], git: Mapping[str, Any]
) -> str:
    """The provenance record as stable JSON text (sorted keys, two-space indent, final newline)."""
    record = build_provenance(inputs, config, git)
    return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
