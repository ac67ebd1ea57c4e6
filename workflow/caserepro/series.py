"""A case series from papers: the raw folders of several case reports merged into one folder that
the pipeline runs like any other.

    python -m caserepro.series --out results/series-raw data/raw examples/wang2021/raw
    snakemake --config raw_dir=results/series-raw results_dir=results/series

Each case's own tables (cases, timepoints, measurements, claims, ...) are the rows of every
folder, one folder after the other. The codebook tables (`CODEBOOK_KEYS`: parameters, checks,
formulas, modalities, qualifiers, methods) describe words, not patients: each paper's are read
with those of the folders it builds on (`caserepro.codebook`); a row that two folders both have
is written once, and two folders that define one key differently are an error naming
both files and lines (the series would otherwise read one paper's words as the other's). A case
id in two folders is an error too. Columns one folder has and another lacks are left blank for
the other's rows. Cells are written as the raw files print them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from caserepro.codebook import CODEBOOK_KEYS, codebook_files, conflicts, with_origin
from caserepro.errors import Problem, RawDataError
from caserepro.io import write_csv
from caserepro.paths import RAW_TABLES, raw_file
from caserepro.raw import read_raw_table


def _parts(folder: Path, table: str) -> list[pd.DataFrame]:
    """One raw table of one paper as text ('' for a blank cell), with the file and line of each
    row: a codebook table after the rows of the folders the paper builds on (`caserepro.codebook`)."""
    files = codebook_files(folder, table) if table in CODEBOOK_KEYS else [raw_file(folder, table)]
    return [
        with_origin(read_raw_table(path, allow_empty=True).frame, str(path))
        for path in files
        if path.exists()
    ]


def _shared_cases(cases: pd.DataFrame) -> list[Problem]:
    """A problem for each case id that two folders use."""
    twice = cases[cases.duplicated("case_id")]
    return [
        Problem(
            row["_file"], int(row["_line"]), "case_id", "a case is in one folder only", f"'{name}'"
        )
        for name, row in twice.set_index("case_id", drop=False).iterrows()
    ]


def merged_tables(folders: list[Path]) -> dict[str, pd.DataFrame]:
    """Every raw table of the series (see the module docstring); RawDataError lists every
    conflict."""
    tables, problems = {}, []
    for table in RAW_TABLES:
        parts = [part for folder in folders for part in _parts(folder, table)]
        if not parts:
            continue
        rows = pd.concat(parts, ignore_index=True).fillna("")
        key = CODEBOOK_KEYS.get(table)
        if key is not None:
            problems += conflicts(rows, key, f"a series defines each {key} once")
            rows = rows.drop_duplicates(key)
        elif table == "cases":
            problems += _shared_cases(rows)
        tables[table] = rows.drop(columns=["_file", "_line"])
    if problems:
        raise RawDataError(problems, ", ".join(map(str, folders)))
    return tables


def write_series(folders: list[Path], out: Path) -> Path:
    """The merged raw folder of the papers in `folders`, written to `out` (made if needed);
    nothing is written when they conflict."""
    tables = merged_tables(folders)
    out.mkdir(parents=True, exist_ok=True)
    for table, frame in tables.items():
        write_csv(raw_file(out, table), frame)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="raw folders, one per paper")
    parser.add_argument("--out", type=Path, required=True, help="the series' raw folder")
    args = parser.parse_args(argv)
    if any(args.out.resolve() == folder.resolve() for folder in args.folders):
        parser.error("--out must be a new folder, not one of the papers' raw folders")
    try:
        write_series(args.folders, args.out)
    except RawDataError as error:
        print(error.report())
        return 1
    print(f"wrote the series of {len(args.folders)} raw folders to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
