"""Read a raw CSV strictly: UTF-8 only, comma-separated, every row the same width, cells as text.

Accepted on purpose, because they are harmless and unambiguous: a UTF-8 byte-order mark (Excel
writes one), whitespace around a cell, and Windows line endings (all removed). Everything else
that is odd is refused with a Problem that names the file, line, column, check and value.
"""

from __future__ import annotations

import csv
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from caserepro.errors import Problem, RawDataError, shorten

UTF8_BOM = b"\xef\xbb\xbf"
#: First data row of a CSV file is line 2 (line 1 is the header).
HEADER_LINE = 1
FIRST_DATA_LINE = 2
#: A number split over two fields by an unquoted decimal or thousands comma ("38,64", "12,567").
_COMMA_NUMBER = re.compile(r"-?\d+(,\d+)+")
_OTHER_DELIMITERS = (";", "\t", "|")
#: A header line whose names are plain or wholly quoted, without quotes, CR or NUL inside.
#: Longest header line (in bytes) read the plain way; a longer one is read carefully.
_LONGEST_HEADER = 1 << 16
_PLAIN_HEADER = re.compile(rb'(?:"[^"\r\0]*"|[^",\r\0]*)(?:,(?:"[^"\r\0]*"|[^",\r\0]*))*')


def line_of(index: int) -> int:
    """The file line of a data row, from its 0-based position in the table."""
    return int(index) + FIRST_DATA_LINE


def _field_at(prefix: str) -> int:
    """0-based index of the CSV field that the end of `prefix` (a partial line) falls in."""
    return max(len(next(csv.reader([prefix]), [""])) - 1, 0)


#: Every character Python's str.strip() removes (str.isspace(), which is what `\s` matches), so
#: cells are trimmed exactly like it, NBSP and the other Unicode spaces included (tests/test_raw.py
#: checks the list against every code point).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _trimmed_or_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells with surrounding whitespace removed (str.strip semantics); blank cells become null."""
    trimmed = pc.utf8_trim(column, characters=WHITESPACE)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


def _decode(data: bytes, name: str) -> str:
    """The text of `data` (its byte-order mark already removed); RawDataError if not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, error.start) + 1
        prefix = data[start : error.start].decode("utf-8", errors="replace")
        try:
            first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace")
            header = next(csv.reader([first]), [])
        except csv.Error:  # the header line is itself broken: the column cannot be named
            header = []
        index = _field_at(prefix)
        column = header[index].strip() if line > HEADER_LINE and index < len(header) else None
        bad = data[error.start : error.start + 4]
        raise RawDataError(
            [
                Problem(
                    name,
                    line,
                    column,
                    "file is UTF-8 text (not Latin-1, Windows-1252 or UTF-16)",
                    repr(bad),
                )
            ]
        ) from None


def _ragged_column(row: list[str], header: list[str]) -> str:
    """The column a row of the wrong width goes wrong in (error path only)."""
    extra = len(row) - len(header)
    if extra < 0:
        return header[len(row)]
    for i in range(len(header)):
        if _COMMA_NUMBER.fullmatch(",".join(row[i : i + extra + 1])):
            return header[i]
    return header[-1]


def _ragged_rows(text: str, header: list[str], name: str) -> list[Problem]:
    """Every row whose number of fields differs from the header's, or that runs over lines."""
    reader = csv.reader(io.StringIO(text))
    next(reader)
    problems = []
    start = reader.line_num + 1
    try:
        for row in reader:
            if reader.line_num > start:
                index = next(i for i, cell in enumerate(row) if "\n" in cell or "\r" in cell)
                column = header[min(index, len(header) - 1)]
                check = "quotes are balanced and no cell runs over several lines"
                problems.append(Problem(name, start, column, check, repr(shorten(row[index]))))
            elif row and len(row) != len(header):
                check = (
                    f"row has {len(header)} fields like the header (an unquoted decimal or thousands "
                    "comma, or a truncated row, changes the count)"
                )
                column = _ragged_column(row, header)
                problems.append(
                    Problem(
                        name, start, column, check, f"{len(row)} fields: {shorten(','.join(row))!r}"
                    )
                )
            start = reader.line_num + 1
    except csv.Error:  # a carriage return alone inside a row, which pyarrow takes for a line end
        check = "file is well-formed CSV (no carriage return alone inside a row)"
        problems.append(Problem(name, reader.line_num, None, check, "unparseable"))
    widths = {int(p.value.split()[0]) for p in problems if p.check.startswith("row has")}
    if len(problems) == len(text.splitlines()) - 1 and len(widths) == 1 and len(problems) > 1:
        # Every row disagrees with the header in the same way: the header is what is wrong.
        check = f"header names every column (it has {len(header)} names, every row {widths.pop()} fields)"
        return [Problem(name, HEADER_LINE, None, check, repr(shorten(",".join(header))))]
    return problems or [Problem(name, None, None, "file is well-formed CSV", "unparseable")]


def _header_problems(header: list[str], name: str) -> list[Problem]:
    if len(header) == 1 and any(d in header[0] for d in _OTHER_DELIMITERS):
        return [
            Problem(
                name,
                HEADER_LINE,
                None,
                "file is comma-separated (not semicolons or tabs)",
                repr(shorten(header[0])),
            )
        ]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    check = "column names are unique and not blank"
    # A blank first line is a header without names (pyarrow would take the next row for it).
    return [
        Problem(name, HEADER_LINE, c or None, check, repr(c))
        for c in duplicated + ([""] if "" in header or not header else [])
    ]


def empty_coded(header: list[str]) -> pd.DataFrame:
    """A table with these columns and no row, every column categorical like `_coded`'s."""
    empty = pd.CategoricalDtype(pd.Index([], dtype="str"))
    return pd.DataFrame({c: pd.Categorical([], dtype=empty) for c in header})


def _read_carefully(data: bytes, name: str, allow_empty: bool = False) -> pd.DataFrame:
    """The raw table of `data` (its byte-order mark removed), checking every way it can be malformed
    in order (encoding, emptiness, header, shape); RawDataError naming the first kind found."""
    # Decoding checks the whole file is UTF-8; the text itself is only read for the header and
    # to locate errors. Pyarrow parses the original bytes, which are the text's UTF-8 encoding.
    text = _decode(data, name)
    if not text or text.isspace():  # the same as `not text.strip()`, without copying the text
        raise RawDataError(
            [
                Problem(
                    name, HEADER_LINE, None, "file is not empty (it has a header row)", repr(text)
                )
            ]
        )
    try:
        header = [column.strip() for column in next(csv.reader(io.StringIO(text)))]
    except csv.Error:  # a carriage return alone inside the header line
        check = "file is well-formed CSV (no carriage return alone inside a row)"
        raise RawDataError([Problem(name, HEADER_LINE, None, check, "unparseable")]) from None
    if problems := _header_problems(header, name):
        raise RawDataError(problems)
    try:
        table = _parse(data, header)
    except pa.ArrowInvalid:
        raise RawDataError(_ragged_rows(text, header, name)) from None
    if table.num_rows == 0 and allow_empty:
        return empty_coded(header)
    if table.num_rows == 0:
        raise RawDataError(
            [Problem(name, FIRST_DATA_LINE, None, "file has at least one data row", "header only")]
        )
    return _coded(table)


def _read_plainly(path: Path, name: str) -> pd.DataFrame | None:
    """The raw table in `path` (see `_coded`) when the file is plainly well-formed, read without
    decoding or even holding all of it (each distinct cell is checked to be UTF-8); None at the
    first oddity, which `_read_carefully` then names. The header must be one line of plain or
    plainly quoted names, so that its first line is its first CSV row for the csv module and
    pyarrow."""
    with path.open("rb") as file:
        first = file.readline(_LONGEST_HEADER).removeprefix(UTF8_BOM)
    first = first.removesuffix(b"\n").removesuffix(b"\r")
    if len(first) >= _LONGEST_HEADER - len(UTF8_BOM) or not _PLAIN_HEADER.fullmatch(first):
        return None
    try:
        line = first.decode("utf-8")
        header = [column.strip() for column in next(csv.reader([line]))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if not header or line.isspace() or _header_problems(header, name):
        return None
    try:
        table = _parse(path, header)  # the header row, byte-order mark included, is skipped
        parsed = table.schema.names == header and set(table.schema.types) == {_CELLS}
        return _coded(table) if parsed and table.num_rows > 0 else None
    except pa.ArrowException:  # malformed, or a cell that is not UTF-8
        return None


#: How each cell is parsed: as bytes, each distinct value held once per block of the file. So
#: the cells are never all held as text (only each column's distinct values are, once checked
#: to be UTF-8: see `_categorical_cells`).
_CELLS = pa.dictionary(pa.int32(), pa.binary())
#: Bytes of the file parsed at a time (one block per core at a time): each block of a column
#: holds its own distinct values, which are then unified, so fewer blocks mean less to unify.
_BLOCK_BYTES = 16 << 20


def _parse(source: Path | bytes, header: list[str]) -> pa.Table:
    """Every data row of a file (or its bytes) as cells named by `header` (see `_CELLS`);
    ArrowInvalid if malformed."""
    return pacsv.read_csv(
        str(source) if isinstance(source, Path) else io.BytesIO(source),
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=_BLOCK_BYTES),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, _CELLS),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _coded(table: pa.Table) -> pd.DataFrame:
    """A parsed table (see `_parse`) with every column categorical (see `_categorical_cells`);
    ArrowInvalid if a cell is not UTF-8 text."""
    # Columns are independent and pyarrow releases the GIL: one column per core at a time.
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        columns = list(pool.map(_categorical_cells, table.columns))
    return pd.DataFrame(dict(zip(table.column_names, columns, strict=True)))


def _categorical_cells(column: pa.ChunkedArray) -> pd.Categorical:
    """A parsed column's cells trimmed (blank cells missing) as a categorical: its distinct
    values and, for each row, which one it holds (-1 for missing); ArrowInvalid if a value is
    not UTF-8 text. Checks and trims each distinct value once."""
    # One dictionary for all blocks of the column, the codes of each block rewritten to it.
    unified = pa.table({"cells": column}).unify_dictionaries()["cells"]
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in unified.chunks])
    values = unified.chunks[0].dictionary.cast(pa.string())
    trimmed = _trimmed_or_null(values)
    if trimmed.equals(values):  # nothing to trim, no blank cell: the values stay as read
        return _categorical(codes, values)
    recoded = pc.dictionary_encode(trimmed)  # trimming can make two values equal
    return _categorical(recoded.indices.fill_null(-1).to_numpy()[codes], recoded.dictionary)


def _categorical(codes: np.ndarray, values: pa.Array) -> pd.Categorical:
    categories = pd.Index(values.to_pandas(), dtype="str")
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories), validate=False)


@dataclass(frozen=True)
class RawTable:
    """A raw table with every column categorical (its distinct values, and which one each row
    holds), for work per value; and the same table as text cells (trimmed; blank cells missing),
    made only when asked for (to check every cell, or to name a bad one)."""

    coded: pd.DataFrame

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The table as text cells."""
        return self.coded.astype(dict.fromkeys(self.coded.columns, "str"))


def read_raw_table(
    path: str | Path, name: str | None = None, allow_empty: bool = False
) -> RawTable:
    """Read one raw table; raise RawDataError if malformed (or if it has a header alone, unless
    `allow_empty`)."""
    path = Path(path)
    name = name or str(path)
    coded = _read_plainly(path, name)
    if coded is None:
        coded = _read_carefully(path.read_bytes().removeprefix(UTF8_BOM), name, allow_empty)
    return RawTable(coded)


def read_raw_csv(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read one raw table as text cells (blank cells become missing); raise RawDataError if malformed."""
    return read_raw_table(path, name).frame
