"""Read a raw CSV strictly: UTF-8 only, every row the same width, every cell kept as text.

Accepted on purpose, because they are harmless and unambiguous: a UTF-8 byte-order mark and
whitespace around a cell (both removed). Everything else that is odd is refused with a Problem.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from caserepro.errors import Problem, RawDataError

UTF8_BOM = b"\xef\xbb\xbf"
#: First data row of a CSV file is line 2 (line 1 is the header).
FIRST_DATA_LINE = 2


def line_of(index: int) -> int:
    """The file line of a data row, from its 0-based position in the table."""
    return int(index) + FIRST_DATA_LINE


def _decode(data: bytes, name: str) -> str:
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RawDataError(
            [Problem(name, line, None, "file is UTF-8 text", repr(data[error.start : error.start + 4]))]
        ) from None


def _ragged_row(text: str, width: int, name: str) -> Problem:
    """Find the first row whose number of fields differs from the header's (error path only)."""
    reader = csv.reader(io.StringIO(text))
    next(reader)
    for row in reader:
        if row and len(row) != width:
            return Problem(
                name,
                reader.line_num,
                None,
                f"row has {width} fields like the header (a decimal or thousands comma, "
                "or a truncated row, changes the count)",
                f"{len(row)} fields: {','.join(row)!r}",
            )
    return Problem(name, None, None, "file is well-formed CSV", "unparseable")


def read_raw_csv(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read one raw table as text cells (blank cells become missing); raise RawDataError if malformed."""
    path = Path(path)
    name = name or str(path)
    text = _decode(path.read_bytes(), name)
    if not text.strip():
        raise RawDataError([Problem(name, None, None, "file is not empty", "''")])
    header = [column.strip() for column in next(csv.reader(io.StringIO(text)))]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated or "" in header:
        raise RawDataError(
            [Problem(name, 1, c or None, "column names are unique and not blank", repr(c)) for c in duplicated or [""]]
        )
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        raise RawDataError([_ragged_row(text, len(header), name)]) from None
    frame = table.to_pandas().astype("str")
    if frame.empty:
        raise RawDataError([Problem(name, None, None, "file has at least one data row", "header only")])
    frame = frame.apply(lambda column: column.str.strip())
    return frame.mask(frame == "")
