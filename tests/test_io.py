"""caserepro.io.csv_bytes writes exactly the bytes pandas' to_csv writes, only faster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from caserepro.audit import run_audit
from caserepro.io import (
    csv_bytes,
    csv_chunks,
    csv_chunks_of,
    read_tables,
    write_appended,
    write_csv,
    write_table,
)
from caserepro.metrics import derive_metrics
from hypothesis import given, settings
from hypothesis import strategies as st


def pandas_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def test_every_column_kind_matches_pandas():
    frame = pd.DataFrame(
        {
            "case_id": pd.Series(["A", None, 'say "hi"', "a,b", "line\nbreak", ""], dtype="str"),
            "value": [77.0, 1.2987, np.nan, 1e-05, 1234000000000000.0, -0.0],
            "count": pd.Series([1, None, 3, 4, 5, -6], dtype="Int64"),
            "plain_int": [1, 2, 3, 4, 5, 6],
            "flag": pd.Series([True, None, False, True, False, True], dtype="boolean"),
            "numpy_flag": [True, False, True, False, True, False],
            "kind": pd.Categorical(["x", "y", None, "x", "y", "x"]),
            "mixed": pd.Series([1, "two", None, 3.5, True, "x"], dtype="object"),
            "big": [float("inf"), -float("inf"), 5e-324, 1e300, 0.0001, 9999999999999998.0],
        }
    )
    assert csv_bytes(frame) == pandas_csv(frame)


def test_header_only_and_single_column():
    empty = pd.DataFrame({"a": pd.Series([], dtype="str"), "b, c": pd.Series([], dtype="float64")})
    assert csv_bytes(empty) == pandas_csv(empty) == b'a,"b, c"\n'
    lone = pd.DataFrame({"a": pd.Series(["", "x", None], dtype="str")})
    assert csv_bytes(lone) == pandas_csv(lone)


def test_refuses_a_dtype_it_cannot_write():
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-01"])})
    with pytest.raises(TypeError, match="'when'"):
        csv_bytes(frame)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True),
            st.one_of(st.none(), st.text(max_size=6)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_floats_and_text_match_pandas(rows):
    frame = pd.DataFrame(
        {
            "number": [number for number, _ in rows],
            "text": pd.Series([text for _, text in rows], dtype="str"),
        }
    )
    assert csv_bytes(frame) == pandas_csv(frame)


def test_the_paper_metrics_and_audit_match_pandas(tables, config):
    """The frames the pipeline writes as CSV, from the paper's data: the same bytes as to_csv."""
    frames = derive_metrics(tables, config["thresholds"])
    frames["consistency"] = run_audit(tables, config).checks
    for name, frame in frames.items():
        assert csv_bytes(frame) == pandas_csv(frame), name


def test_write_csv_writes_the_bytes(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.0], "b": pd.Series(["x", None], dtype="str")})
    write_csv(tmp_path / "out.csv", frame)
    assert (tmp_path / "out.csv").read_bytes() == b"a,b\n1.5,x\n2.0,\n"


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_pieces_join_to_the_whole(tables, rows):
    frame = tables["measurements"].head(11)
    pieces = [bytes(piece) for piece in csv_chunks(frame, rows=rows)]
    assert len(pieces) == 1 + -(-11 // rows)  # the header, then one piece per `rows` rows
    assert b"".join(pieces) == pandas_csv(frame)


def test_frames_one_after_another_are_written_as_their_concatenation(tables):
    """A table made part by part is written as the whole table is, header once."""
    frame = tables["measurements"].head(11)
    parts = [frame.iloc[:4], frame.iloc[4:4], frame.iloc[4:]]  # an empty part writes nothing
    pieces = [bytes(piece) for piece in csv_chunks_of(list(frame.columns), iter(parts), rows=3)]
    assert len(pieces) == 1 + 2 + 3  # the header; 4 rows in 2 pieces, 7 in 3
    assert b"".join(pieces) == pandas_csv(frame)


def test_pieces_with_and_without_quoted_cells_match_pandas():
    """Pieces without a cell to quote are written by Arrow's CSV writer, the others joined."""
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None, "b,c", "d", 'say "hi"', "e"], dtype="str"),
            "value": [1.0, np.nan, 2.5, 1.0, 1e-05, 77.0],
            "flag": pd.Series([True, None, False, True, False, None], dtype="boolean"),
        }
    )
    pieces = [bytes(piece) for piece in csv_chunks(frame, rows=2)]
    assert pieces[1] == b"a,1.0,True\n,,\n"  # missing cells empty
    assert pieces[2] == b'"b,c",2.5,False\nd,1.0,True\n'
    assert b"".join(pieces) == pandas_csv(frame)


def test_a_failing_piece_leaves_no_file(tmp_path):
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-01"])})
    with pytest.raises(TypeError):
        write_csv(tmp_path / "out.csv", frame)
    assert list(tmp_path.iterdir()) == []


def test_appending_moves_the_first_file_and_copies_the_rest(tmp_path):
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    first.write_bytes(b"head\n1\n")
    second.write_bytes(b"2\n" * 70_000)  # more than one block
    third.write_bytes(b"")
    write_appended(tmp_path / "out" / "joined.csv", first, [second, third])
    joined = tmp_path / "out" / "joined.csv"
    assert joined.read_bytes() == b"head\n1\n" + b"2\n" * 70_000
    assert not first.exists() and second.exists() and third.exists()
    assert oct(joined.stat().st_mode & 0o777) == "0o644"
    assert [f.name for f in joined.parent.iterdir()] == ["joined.csv"]


def test_a_failed_append_leaves_neither_the_table_nor_the_first_file(tmp_path):
    """The first file is gone either way, so a job that appended to it half cannot be taken
    for its whole output; nothing is left where the table goes."""
    first = tmp_path / "first"
    first.write_bytes(b"head\n")
    (tmp_path / "out").mkdir()
    with pytest.raises(FileNotFoundError):
        write_appended(tmp_path / "out" / "joined.csv", first, [tmp_path / "missing"])
    assert not first.exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_read_tables_reads_whole_tables_or_only_the_columns_asked_for(tmp_path):
    frame = pd.DataFrame({"case_id": ["A", "B"], "value": [1.5, 2.0], "note": ["x", ""]})
    write_table(tmp_path / "t.parquet", frame)
    whole = read_tables({"t": tmp_path / "t.parquet"})["t"]
    pd.testing.assert_frame_equal(whole, frame)
    some = read_tables({"t": tmp_path / "t.parquet"}, columns={"t": ["value", "case_id"]})["t"]
    assert list(some.columns) == ["value", "case_id"]
    assert some["value"].tolist() == [1.5, 2.0]
    coded = read_tables({"t": tmp_path / "t.parquet"}, categorical={"t": ["case_id"]})["t"]
    assert isinstance(coded["case_id"].dtype, pd.CategoricalDtype)
    assert coded["case_id"].tolist() == ["A", "B"] and coded["note"].dtype == frame["note"].dtype


def test_categorical_text_is_written_as_text(tmp_path):
    """A categorical column reads back as the text column it stands for, file for file the same."""
    frame = pd.DataFrame(
        {
            "case_id": pd.Series(["B", "A", None, "B"], dtype="str"),
            "value": [1.5, 2.0, 3.0, 4.0],
            "count": pd.Series([1, None, 3, 4], dtype="Int64"),
        }
    )
    write_table(tmp_path / "text.parquet", frame)
    coded = frame.astype({"case_id": "category"})
    write_table(tmp_path / "coded.parquet", coded)
    write_table(tmp_path / "again.parquet", coded)
    files = {name: tmp_path / f"{name}.parquet" for name in ("text", "coded", "again")}
    read = read_tables(files)
    pd.testing.assert_frame_equal(read["coded"], frame)
    pd.testing.assert_frame_equal(read["text"], frame)
    assert files["coded"].read_bytes() == files["again"].read_bytes()
    # The file describes the column as text to pandas, as the text frame's file does.
    described = {name: pq.read_schema(path).metadata for name, path in files.items()}
    assert described["coded"] == described["text"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files.values())


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=6)), min_size=1, max_size=30),
    st.lists(st.text(max_size=6), max_size=4),
)
def test_categorical_text_matches_pandas(cells, unused):
    """Categorical text is formatted category by category, then taken by code: the same bytes,
    whatever the categories hold (quotes, commas, breaks), missing and unused ones included."""
    categories = list(dict.fromkeys([*unused, *(c for c in cells if c is not None)]))
    coded = pd.Categorical(cells, categories=categories)
    frame = pd.DataFrame({"coded": coded, "text": pd.Series(cells, dtype="str"), "n": 1.5})
    assert csv_bytes(frame) == pandas_csv(frame)
    assert csv_bytes(frame[["coded"]]) == pandas_csv(frame[["coded"]])
