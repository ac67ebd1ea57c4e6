"""The codebook a raw folder reads: its own rows, after those of the folders it builds on.

A raw folder describes its case in words the codebook defines: parameters (`dictionary.csv`),
checks, formulas, modalities and qualifiers. A second paper needs the same words as the first,
so its folder need not copy them: a `builds_on.csv` (one column, `folder`: a path relative to
the raw folder, or absolute) names the folders whose codebook rows come first; the folder's own
files then add rows (a new parameter, a new qualifier). A row both define alike is taken once; a
word two folders define differently is an error naming both files and lines, never a silent
choice. A folder built on may build on another in turn (a loop is an error).

Methods (`methods.csv`) are a paper's own (its MRI's contours, say) and are not inherited.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from caserepro.errors import Problem, RawDataError
from caserepro.paths import raw_file
from caserepro.raw import RawTable, line_of, read_raw_table

#: Each codebook table and the column that names its rows.
CODEBOOK_KEYS: dict[str, str] = {
    "dictionary": "parameter",
    "checks": "check",
    "formulas": "check",
    "constants": "constant",
    "modalities": "modality",
    "qualifiers": "qualifier",
    "methods": "method",
}
#: The codebook tables a folder inherits from the folders it builds on.
INHERITED: tuple[str, ...] = (
    "dictionary",
    "checks",
    "formulas",
    "constants",
    "modalities",
    "qualifiers",
)
#: The file that names the folders a raw folder builds on.
BUILDS_ON = "builds_on"


def builds_on_file(raw_dir: str | Path) -> Path:
    """The raw folder's `builds_on.csv` (it need not exist)."""
    return raw_file(raw_dir, BUILDS_ON)


def base_folders(raw_dir: str | Path, seen: tuple[Path, ...] = ()) -> list[Path]:
    """The folders whose codebook `raw_dir` builds on, deepest first (empty if it builds on
    none); RawDataError names the line of `builds_on.csv` whose folder is missing or loops."""
    path = builds_on_file(raw_dir)
    if not path.exists():
        return []
    here = Path(raw_dir).resolve()
    frame = read_raw_table(path).frame
    if "folder" not in frame.columns:
        raise RawDataError([Problem(str(path), 1, "folder", "required column is present", "")])
    folders: list[Path] = []
    for index, name in frame["folder"].items():
        # Normalised, not resolved: a relative folder stays relative (reports and provenance
        # name the same files in every clone).
        base = Path(os.path.normpath(Path(raw_dir) / str(name)))
        where = (str(path), line_of(int(index)), "folder")
        if not base.is_dir():
            raise RawDataError([Problem(*where, "names an existing folder", repr(str(name)))])
        if base.resolve() in (*seen, here):
            raise RawDataError([Problem(*where, "does not build on itself", repr(str(name)))])
        folders += [*base_folders(base, (*seen, here)), base]
    return list(dict.fromkeys(folders))


def codebook_files(raw_dir: str | Path, table: str) -> list[Path]:
    """The files one codebook table's rows come from, in order: the bases', then the folder's
    own (only those that exist)."""
    folders = [*base_folders(raw_dir), Path(raw_dir)] if table in INHERITED else [Path(raw_dir)]
    return [path for folder in folders if (path := raw_file(folder, table)).exists()]


def with_origin(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """A raw table as text ('' for blank) with the file and line of each row (`_file`, `_line`)."""
    text = frame.astype("str").fillna("")
    return text.assign(_file=file, _line=[line_of(i) for i in range(len(frame))])


def conflicts(rows: pd.DataFrame, key: str, why: str) -> list[Problem]:
    """A problem for each `key` that rows of different files (`with_origin`) define with
    different cells; `why` says the rule (the report adds where the other definition is)."""
    columns = [c for c in rows.columns if not c.startswith("_")]
    distinct = rows.drop_duplicates(columns)
    twice = distinct[distinct.duplicated(key, keep=False)]
    problems = []
    for name, group in twice.groupby(key, sort=False):
        first, other = group.iloc[0], group.iloc[1]
        rule = f"{why}: the same as {first['_file']} line {first['_line']}, or only in one file"
        problems.append(Problem(other["_file"], int(other["_line"]), key, rule, f"'{name}'"))
    return problems


def merged(parts: list[pd.DataFrame], key: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Rows of several files (`with_origin`) as one table: a row several define alike once (the
    first), and the problems of words defined differently."""
    rows = pd.concat(parts, ignore_index=True).fillna("")
    problems = conflicts(rows, key, f"a codebook defines each {key} once")
    return rows.drop_duplicates(key).reset_index(drop=True), problems


def as_raw_table(rows: pd.DataFrame) -> RawTable:
    """Merged rows (`merged`) as a raw table read from one file: text columns categorical,
    blank cells missing."""
    columns = [c for c in rows.columns if not c.startswith("_")]
    cells = {c: rows[c].astype("str").where(rows[c] != "") for c in columns}
    return RawTable(
        pd.DataFrame(
            {
                c: v.astype(pd.CategoricalDtype(pd.Index(v.dropna().unique(), dtype="str")))
                for c, v in cells.items()
            }
        )
    )


def read_inherited(
    raw_dir: str | Path, table: str, own_name: str
) -> tuple[RawTable | None, pd.DataFrame, list[Problem]]:
    """One inherited codebook table of a folder that builds on others: the merged rows as a raw
    table (None if no file has it), each row's file and line (`_file`, `_line`), and the
    problems (files that cannot be read, words defined twice). The folder's own file is shown
    as `own_name`."""
    parts, problems = [], []
    own = raw_file(raw_dir, table)
    for path in codebook_files(raw_dir, table):
        name = own_name if path == own else str(path)
        try:
            parts.append(with_origin(read_raw_table(path, name, allow_empty=True).frame, name))
        except RawDataError as error:
            problems += error.problems
    if not parts:
        return None, pd.DataFrame(columns=["_file", "_line"]), problems
    rows, conflicting = merged(parts, CODEBOOK_KEYS[table])
    return as_raw_table(rows), rows[["_file", "_line"]], problems + conflicting


def located(problem: Problem, origins: dict[str, pd.DataFrame], names: dict[str, str]) -> Problem:
    """A problem found on a merged codebook table, placed at the file and line its row came
    from (other problems unchanged)."""
    for table, rows in origins.items():
        if problem.file == names[table] and problem.line is not None and problem.line > 1:
            index = problem.line - line_of(0)
            if 0 <= index < len(rows):
                file, line = rows.iloc[index]
                return Problem(file, int(line), problem.column, problem.check, problem.value)
    return problem


def inherited_inputs(raw_dir: str | Path) -> dict[str, Path]:
    """The files besides its own tables that a raw folder's validation reads (`builds_on.csv`
    and the base folders' codebook files), by an input name; a `builds_on.csv` that cannot be
    followed is only itself (validation then reports why)."""
    path = builds_on_file(raw_dir)
    if not path.exists():
        return {}
    try:
        bases = base_folders(raw_dir)
    except RawDataError:
        bases = []
    files = {
        f"{table}_from_{number}": raw_file(base, table)
        for number, base in enumerate(bases, start=1)
        for table in INHERITED
        if raw_file(base, table).exists()
    }
    return {BUILDS_ON: path, **files}
