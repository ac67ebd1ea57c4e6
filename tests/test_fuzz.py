"""Random tables within and around the schema: load_raw accepts them or refuses them cleanly.

Hypothesis writes measurement and case tables from a mix of valid codes (taken from data/raw),
random text, odd numbers, blanks and odd unicode, and also damages raw files byte by byte. Every
outcome must be either validated tables or a RawDataError with at least one problem that names
its file, never any other exception. Derandomized, so CI sees the same examples every run.
"""

from __future__ import annotations

import csv
import functools
import io
import shutil
from pathlib import Path

import pytest
from caserepro.errors import RawDataError
from caserepro.paths import RAW_TABLES, raw_file
from caserepro.raw import read_raw_csv
from caserepro.validate import load_raw
from conftest import RAW_DIR
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    # No shrinking: on a shared CI machine it can take minutes; the failing example is printed.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Strings that look like numbers or blanks to one reader or another.
AWKWARD = [
    "",
    " ",
    "NA",
    "n/a",
    "-",
    "null",
    "None",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-0",
    "1e309",
    "12,567",
    "38,64",
    "12 567",
    "1.",
    ".5",
    "+5",
    "٣",
    "１２",
    "\u00a0",
    "\ufeff",
    "0x1A",
    "9" * 25,
    "-" + "9" * 25,
    "2022-13",
    "2022-00",
    "LAT2026-01 ",
    "Ivan Petrov",
    "a@b.cd",
]


def cells(valid: list[str]) -> st.SearchStrategy[str]:
    """A cell: mostly a valid value of its column, else something near or far from valid."""
    return st.one_of(
        st.sampled_from(valid),
        st.sampled_from(valid),
        st.sampled_from(AWKWARD),
        st.text(max_size=10),
        st.integers(-(10**20), 10**20).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


@functools.cache
def _table(name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a raw table, read once (strategies must not see the files change)."""
    header, *rows = list(csv.reader(io.StringIO(raw_file(RAW_DIR, name).read_text("utf-8"))))
    return header, rows


@st.composite
def tables_like(draw: st.DrawFn, name: str) -> str:
    """CSV text for raw table `name`: its columns (sometimes one dropped or one added), random rows."""
    header, rows = _table(name)
    valid = {c: sorted({r[i] for r in rows}) for i, c in enumerate(header)}
    columns = list(header)
    if draw(st.booleans()) and draw(st.booleans()):
        columns.remove(draw(st.sampled_from(columns)))
    if draw(st.booleans()) and draw(st.booleans()):
        columns.append(draw(st.sampled_from(["patient_name", "email", "value", ""])))
    keep = draw(st.lists(st.sampled_from(rows), max_size=4))
    fuzzed = draw(st.lists(st.tuples(*[cells(valid.get(c) or [""]) for c in columns]), max_size=4))
    body = [[r[header.index(c)] if c in header else "x" for c in columns] for r in keep]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([columns, *body, *map(list, fuzzed)])
    return out.getvalue()


@st.composite
def edited_copies(draw: st.DrawFn, name: str) -> str:
    """CSV text for raw table `name`: the paper's rows with one to three cells replaced."""
    header, rows = _table(name)
    valid = {c: sorted({r[i] for r in rows}) for i, c in enumerate(header)}
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(1, 3))):
        row, column = draw(st.integers(0, len(rows) - 1)), draw(st.sampled_from(header))
        rows[row][header.index(column)] = draw(cells(valid[column]))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of data/raw that each example overwrites one file of (and restores)."""
    return Path(shutil.copytree(RAW_DIR, tmp_path_factory.mktemp("fuzz") / "raw"))


def outcome(raw: Path) -> str:
    """Load `raw`; 'valid' or 'refused' (with a well-formed report); anything else propagates."""
    try:
        load_raw(raw, "data/raw")
    except RawDataError as error:
        assert error.problems, "a refusal must list at least one problem"
        for problem in error.problems:
            assert problem.file.startswith("data/raw/") and problem.check
            assert str(problem) in error.report()
        return "refused"
    return "valid"


def _with(raw: Path, name: str, data: bytes) -> str:
    path = raw_file(raw, name)
    path.write_bytes(data)
    try:
        result = outcome(raw)
        event(result)
        return result
    finally:
        shutil.copyfile(raw_file(RAW_DIR, name), path)


@FUZZ
@given(text=tables_like("measurements"))
def test_random_measurement_tables_validate_or_are_refused_cleanly(scratch: Path, text: str):
    assert _with(scratch, "measurements", text.encode("utf-8")) in {"valid", "refused"}


#: The paper's tables that have a data row to edit (an optional table may be a header alone).
WITH_ROWS = [t for t in RAW_TABLES if len(raw_file(RAW_DIR, t).read_text("utf-8").splitlines()) > 1]


@FUZZ
@given(name=st.sampled_from(WITH_ROWS), data=st.data())
def test_paper_tables_with_edited_cells_validate_or_are_refused_cleanly(
    scratch: Path, name: str, data: st.DataObject
):
    text = data.draw(edited_copies(name))
    assert _with(scratch, name, text.encode("utf-8")) in {"valid", "refused"}


@FUZZ
@given(text=tables_like("cases"))
def test_random_case_tables_validate_or_are_refused_cleanly(scratch: Path, text: str):
    assert _with(scratch, "cases", text.encode("utf-8")) in {"valid", "refused"}


@FUZZ
@given(
    name=st.sampled_from(RAW_TABLES),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 3), st.binary(max_size=3)), min_size=1, max_size=3
    ),
)
# Found by this test: a carriage return in the header line and a bad UTF-8 byte further down.
@example(name="table_layout", edits=[(0.49, 1, b""), (0.0, 2, b"\r"), (0.785, 0, b"?\xe2>")])
def test_damaged_bytes_are_read_or_refused_cleanly(
    scratch: Path, name: str, edits: list[tuple[float, int, bytes]]
):
    data = bytearray(raw_file(RAW_DIR, name).read_bytes())
    for where, cut, insert in edits:
        at = int(where * len(data))
        data[at : at + cut] = insert
    path = raw_file(scratch, name)
    path.write_bytes(bytes(data))
    try:
        read_raw_csv(path, f"data/raw/{name}.csv")
    except RawDataError as error:
        assert error.problems
    finally:
        shutil.copyfile(raw_file(RAW_DIR, name), path)


def test_the_paper_data_pass(scratch: Path):
    assert outcome(scratch) == "valid"
