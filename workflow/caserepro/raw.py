"""Read a raw CSV strictly: UTF-8 only, comma-separated, every row the same width, cells as text.

Accepted on purpose, because they are harmless and unambiguous: a UTF-8 byte-order mark (Excel
writes one), whitespace around a cell, and Windows line endings (all removed). Everything else
that is odd is refused with a Problem that names the file, line, column, check and value.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from functools import cache
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


def line_of(index: int) -> int:
    """The file line of a data row, from its 0-based position in the table."""
    return int(index) + FIRST_DATA_LINE


def _field_at(prefix: str) -> int:
    """0-based index of the CSV field that the end of `prefix` (a partial line) falls in."""
    return max(len(next(csv.reader([prefix]), [""])) - 1, 0)


@cache
def _whitespace() -> str:
    """Every character Python's str.strip() removes (str.isspace(), which is what `\\s` matches),
    so cells are trimmed exactly like it, NBSP and the other Unicode spaces included."""
    points = np.arange(sys.maxunicode + 1, dtype="<u4")
    points = points[(points < 0xD800) | (points > 0xDFFF)]  # surrogates are not characters
    return "".join(re.findall(r"\s", points.tobytes().decode("utf-32-le")))


def _trimmed_or_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells with surrounding whitespace removed (str.strip semantics); blank cells become null."""
    trimmed = pc.utf8_trim(column, characters=_whitespace())
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _decode(data: bytes, name: str) -> str:
    """The text of `data` (its byte-order mark already removed); RawDataError if not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, error.start) + 1
        prefix = data[start : error.start].decode("utf-8", errors="replace")
        header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8", errors="replace")]), [])
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
    return [
        Problem(name, HEADER_LINE, c or None, check, repr(c))
        for c in duplicated + ([""] if "" in header else [])
    ]


def read_raw_csv(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read one raw table as text cells (blank cells become missing); raise RawDataError if malformed."""
    path = Path(path)
    name = name or str(path)
    data = path.read_bytes()
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
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
    header = [column.strip() for column in next(csv.reader(io.StringIO(text)))]
    if problems := _header_problems(header, name):
        raise RawDataError(problems)
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        raise RawDataError(_ragged_rows(text, header, name)) from None
    if table.num_rows == 0:
        raise RawDataError(
            [Problem(name, FIRST_DATA_LINE, None, "file has at least one data row", "header only")]
        )
    table = pa.Table.from_arrays([_trimmed_or_null(c) for c in table.columns], names=header)
    return table.to_pandas().astype("str")
