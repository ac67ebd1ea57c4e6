"""Reading raw CSV files: text cells trimmed like str.strip, and each column's distinct values."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from caserepro import raw
from caserepro.errors import RawDataError
from caserepro.raw import WHITESPACE, _read_plainly, read_raw_csv, read_raw_table


def test_whitespace_is_every_character_str_strip_removes():
    points = np.arange(sys.maxunicode + 1, dtype="<u4")
    points = points[(points < 0xD800) | (points > 0xDFFF)]  # surrogates are not characters
    assert "".join(re.findall(r"\s", points.tobytes().decode("utf-32-le"))) == WHITESPACE


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    return path


def test_cells_are_trimmed_blanks_missing_and_coded_once_per_value(tmp_path):
    path = write(tmp_path, b'"a","b"\n" x ",1\nx,\n\xc2\xa0y,  \nx,2\n')
    read = read_raw_table(path)
    assert read.frame["a"].tolist() == ["x", "x", "y", "x"]
    assert read.frame["b"].isna().tolist() == [False, True, True, False]
    assert all(dtype == "str" for dtype in read.frame.dtypes)
    a, b = read.coded["a"], read.coded["b"]
    assert sorted(a.cat.categories) == ["x", "y"]  # ' x ' and 'x' are one value
    assert a.astype("str").tolist() == read.frame["a"].tolist()
    assert sorted(b.cat.categories) == ["1", "2"]
    assert b.cat.codes.tolist()[1:3] == [-1, -1]


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,2\n",
        b'"a","b"\r\n"1","2"\r\n',
        b"\xef\xbb\xbfa,b\n1,2\n",
        b'\xef\xbb\xbf"a", b \n 1 ,"2"\n',
    ],
)
def test_plain_files_are_read_the_plain_way_with_the_same_cells(tmp_path, data):
    path = write(tmp_path, data)
    assert _read_plainly(path, "t") is not None
    assert read_raw_csv(path).to_dict("list") == {"a": ["1"], "b": ["2"]}


@pytest.mark.parametrize(
    "data",
    [
        b'"a\nb",c\n1,2\n',  # the header runs over two lines
        b'"a""x",b\n1,2\n',  # a quote inside a quoted name
        b"a,a\n1,2\n",  # a problem of the header
        b"a,b\n",  # no data row
        b"a,b\n1,\xff\n",  # not UTF-8
        b"a,b\n1,2,3\n",  # a ragged row
        b" \n",
        b"\nx,y\n1,\xff\n",  # no header: pyarrow would take the next row for it
    ],
)
def test_odd_files_are_left_to_the_careful_reading(tmp_path, data):
    assert _read_plainly(write(tmp_path, data), "t") is None


def test_careful_reading_still_names_the_problem(tmp_path):
    with pytest.raises(RawDataError) as caught:
        read_raw_csv(write(tmp_path, b"a,b\n1,caf\xe9\n"), "t.csv")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.check) == (
        2,
        "b",
        "file is UTF-8 text (not Latin-1, Windows-1252 or UTF-16)",
    )


def test_a_blank_first_line_is_a_header_without_names(tmp_path):
    with pytest.raises(RawDataError) as caught:
        read_raw_csv(write(tmp_path, b"\r\nmethod,label\nx,y\n"), "t.csv")
    assert [(p.line, p.column, p.check) for p in caught.value.problems] == [
        (1, None, "column names are unique and not blank")
    ]


def test_a_carriage_return_alone_inside_the_header_is_refused(tmp_path):
    # Found by a corpus of damaged paper tables: the header's csv parse raised csv.Error.
    with pytest.raises(RawDataError) as caught:
        read_raw_csv(write(tmp_path, b"case_id,admi\rssion,note\nA,2022-01,x\n"), "t.csv")
    assert [(p.line, p.column, p.check, p.value) for p in caught.value.problems] == [
        (1, None, "file is well-formed CSV (no carriage return alone inside a row)", "unparseable")
    ]


def test_a_carriage_return_alone_inside_a_row_is_refused(tmp_path):
    with pytest.raises(RawDataError) as caught:
        read_raw_csv(write(tmp_path, b"a,b\n1,2\n3,x\ry\n5,6\n"), "t.csv")
    assert [(p.line, p.check) for p in caught.value.problems] == [
        (3, "file is well-formed CSV (no carriage return alone inside a row)")
    ]


def test_a_file_read_in_many_blocks_gives_the_same_table(tmp_path, monkeypatch):
    rows = "".join(f"c{i % 7}, {i % 3} ,{'' if i % 5 else 'x'}\n" for i in range(5000))
    path = write(tmp_path, ("a,b,c\n" + rows).encode())
    whole = read_raw_table(path)
    monkeypatch.setattr(raw, "_BLOCK_BYTES", 1 << 10)  # about a hundred blocks, each coded alone
    split = read_raw_table(path)
    pd.testing.assert_frame_equal(split.coded, whole.coded)
    assert split.frame["b"].tolist()[:4] == ["0", "1", "2", "0"]
    assert split.frame["c"].isna().tolist()[:6] == [False, True, True, True, True, False]
    assert list(split.coded["a"].cat.categories) == [f"c{i}" for i in range(7)]


def test_a_cell_not_utf8_in_a_later_block_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(raw, "_BLOCK_BYTES", 1 << 10)
    data = b"a,b\n" + b"1,x\n" * 2000 + b"2,caf\xe9\n"
    assert _read_plainly(write(tmp_path, data), "t") is None
    with pytest.raises(RawDataError) as caught:
        read_raw_csv(write(tmp_path, data), "t.csv")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2002, "b")
