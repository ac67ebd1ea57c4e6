"""Read and write the pipeline's intermediate and output files, always the same bytes for the same data."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def _replacing(path: str | Path) -> Iterator[IO[bytes]]:
    """A temporary file beside `path`, renamed onto it when the block succeeds and removed when
    it fails, so no half-written file is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as tmp:
        try:
            yield tmp
        except BaseException:  # a piece failed to build: leave nothing behind
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.chmod(tmp.name, 0o644)  # readable like any other output (temporary files start at 0600)
    os.replace(tmp.name, path)


def write_bytes(path: str | Path, data: bytes | Iterable[bytes | memoryview]) -> None:
    """Write bytes (or pieces of bytes, in order) atomically (`_replacing`)."""
    with _replacing(path) as tmp:
        for piece in [data] if isinstance(data, bytes) else data:
            tmp.write(piece)


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))


def write_table(path: str | Path, frame: pd.DataFrame) -> None:
    """Write a validated table as Parquet (typed, compact, byte-stable for the same data).

    A categorical column is written as its text and reads back as text (str), exactly as if the
    frame had held it as text: Parquet stores text as its distinct values and a code per row, so
    a categorical hands the writer both instead of having it hash every cell. The file describes
    the frame as text, to Arrow ("ARROW:schema", as Arrow's writer stores it) and to pandas.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    categorical = [c for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
    as_text = frame.iloc[:0].astype(dict.fromkeys(categorical, "str"))
    schema = pa.Schema.from_pandas(as_text, preserve_index=False)
    described = schema.metadata | {b"ARROW:schema": base64.b64encode(schema.serialize())}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # No statistics: nothing reads them, and they cost a comparison per cell. LZ4: files a little
    # larger than zstd's, read back faster by the stages that follow.
    with pq.ParquetWriter(
        tmp, table.schema, compression="lz4", write_statistics=False, store_schema=False
    ) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata(described)
    os.replace(tmp, path)


def read_tables(
    files: dict[str, str | Path],
    columns: dict[str, list[str]] | None = None,
    categorical: dict[str, list[str]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read validated tables by name. By table name, `columns` reads only those columns, and
    `categorical` reads those text columns as categorical: their codes come from Parquet's own
    dictionary of each column, with no hashing of millions of strings."""
    columns, categorical = columns or {}, categorical or {}
    return {
        name: pd.read_parquet(
            path, columns=columns.get(name), read_dictionary=categorical.get(name)
        )
        for name, path in files.items()
    }


# --- CSV ------------------------------------------------------------------------------------------
# The metrics and audit tables are written as CSV. pandas' `to_csv` formats every cell in Python,
# which at a cohort's millions of rows costs most of a stage's time. `csv_bytes` builds the same
# bytes column by column in Arrow's C++ kernels; tests/test_io.py holds it to `to_csv` byte for byte.

# Python's repr writes a float in plain digits when 1e-4 <= |x| < 1e16, with ".0" after a whole
# number; Arrow writes the same shortest digits but switches to an exponent at other points. So
# Arrow formats every value that it writes without an exponent and Python's repr still would; the
# rest (rare in clinical data) are formatted by Python.
_PLAIN_FLOAT_MIN, _PLAIN_FLOAT_BELOW = 1e-4, 1e16
# What makes Python 3.11's csv module (QUOTE_MINIMAL, lineterminator "\n") quote a cell.
_SPECIAL_BYTES = (b'"', b",", b"\n")


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _float_text(numbers: np.ndarray) -> pa.Array:
    """Floats as `repr` prints them ('77.0', '1.2987', '1e-05'); NaN as null.

    Few distinct values (most printed measurements) are each formatted once."""
    encoded = pc.dictionary_encode(_float_array(numbers))
    if 4 * len(encoded.dictionary) < len(numbers):
        distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
        return pc.take(_distinct_float_text(distinct), encoded.indices)
    return _distinct_float_text(numbers)


def _float_array(numbers: np.ndarray) -> pa.Array:
    """Floats as an Arrow array, NaN as null (an explicit mask: `from_pandas` checks value by value)."""
    return pa.array(numbers, mask=np.isnan(numbers))


def _distinct_float_text(numbers: np.ndarray) -> pa.Array:
    text = pc.cast(_float_array(numbers), pa.large_string())
    exponent = pc.fill_null(pc.match_substring(text, "e"), False).to_numpy(zero_copy_only=False)
    finite = np.isfinite(numbers)
    size = np.abs(numbers)
    plain = (
        finite
        & ~exponent
        & ((size == 0) | ((size >= _PLAIN_FLOAT_MIN) & (size < _PLAIN_FLOAT_BELOW)))
    )
    whole = plain & (numbers == np.trunc(numbers))  # Arrow writes '77' where repr writes '77.0'
    if whole.any():
        suffix = pc.if_else(pa.array(whole), _text(".0"), _text(""))
        text = pc.binary_join_element_wise(text, suffix, _text(""))
    unusual = finite & ~plain  # where Arrow and repr choose notation differently
    if unusual.any():
        cells = text.to_numpy(zero_copy_only=False).astype(object)
        cells[unusual] = [repr(float(v)) for v in numbers[unusual]]
        text = pa.array(cells, pa.large_string())
    return text


def _column_texts(frame: pd.DataFrame) -> list[pa.Array]:
    """Each column's cells as `to_csv` writes them (see `_column_text`).

    The float columns are formatted together: values they share (a volume, the ends of its
    interval, ...) are formatted once."""
    columns = [frame[name] for name in frame.columns]
    floats = [i for i, values in enumerate(columns) if pd.api.types.is_float_dtype(values.dtype)]
    texts = {}
    if floats:
        numbers = [columns[i].to_numpy(dtype="float64", na_value=np.nan) for i in floats]
        text = _float_text(np.concatenate(numbers))
        texts = {i: text.slice(k * len(frame), len(frame)) for k, i in enumerate(floats)}
    return [texts[i] if i in texts else _column_text(values) for i, values in enumerate(columns)]


def _column_text(values: pd.Series) -> pa.Array:
    """One column's cells (not floats) as `to_csv` writes them, quoted where needed; missing
    values as null."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        flags = pa.array(values, pa.bool_(), from_pandas=True)
        return pc.if_else(flags, _text("True"), _text("False"))
    if pd.api.types.is_integer_dtype(dtype):
        return pc.cast(pa.array(values, from_pandas=True), pa.large_string())
    if isinstance(dtype, pd.CategoricalDtype):
        return _coded_text(values)
    if pd.api.types.is_string_dtype(dtype):
        return _quoted(_string_array(values))
    raise TypeError(f"csv_bytes: column {values.name!r} has dtype {dtype}, which it cannot write")


def _string_array(values: pd.Series) -> pa.Array:
    """Text cells as Arrow strings; other objects as `str()` prints them."""
    try:
        return pa.array(values, pa.large_string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # objects that are not all strings
        if not pd.api.types.is_object_dtype(values.dtype):
            raise
    return pa.array(values.astype("str"), pa.large_string(), from_pandas=True)


def _coded_text(values: pd.Series) -> pa.Array:
    """A categorical column's cells as `str()` prints its categories: each category is formatted
    (and quoted) once, then taken by each row's code (missing where -1)."""
    categories = pa.array(values.cat.categories.astype("str"), pa.large_string())
    codes = values.cat.codes.to_numpy()
    return pc.take(_quoted(categories), pa.array(codes, mask=codes < 0))


def _quoted(text: pa.Array) -> pa.Array:
    """Cells with a comma, quote or line break in quotes, inner quotes doubled (QUOTE_MINIMAL)."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    raw = _text_view(text).tobytes()  # bytes: searched for each special character
    present = [special.decode() for special in _SPECIAL_BYTES if special in raw]
    if not present:
        return text  # no cell holds any of those characters: the common case, found in one scan
    needs = pc.match_substring(text, present[0])
    for special in present[1:]:
        needs = pc.or_(needs, pc.match_substring(text, special))
    escaped = pc.replace_substring(text, '"', '""') if '"' in present else text
    quoted = pc.binary_join_element_wise(_text('"'), escaped, _text('"'), _text(""))
    return pc.if_else(pc.fill_null(needs, False), quoted, text)


def _text_view(text: pa.Array) -> memoryview:
    """The characters of all cells of a text array, end to end, without a copy (only this slice
    of its buffer)."""
    offsets, data = text.buffers()[1:3]
    if data is None or len(text) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(offsets, np.int64 if pa.types.is_large_string(text.type) else np.int32)
    first, last = offsets[text.offset], offsets[text.offset + len(text)]
    return memoryview(data)[first:last]


#: Rows formatted at a time: a cohort's CSV is written in pieces, so its text is never all in memory.
CSV_CHUNK_ROWS = 1 << 17


def csv_chunks(frame: pd.DataFrame, rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes | memoryview]:
    """UTF-8 CSV of `frame`, as `frame.to_csv(index=False, lineterminator="\\n")` writes it, in
    pieces: the header line, then the lines of each `rows` rows."""
    return csv_chunks_of(list(frame.columns), [frame], rows)


def csv_chunks_of(
    columns: list[str], frames: Iterable[pd.DataFrame], rows: int = CSV_CHUNK_ROWS
) -> Iterator[bytes | memoryview]:
    """UTF-8 CSV of frames with the same `columns`, one after the other, as `csv_chunks` writes
    their concatenation; each frame is taken from `frames` only when its lines are due, so a
    table made part by part is never all in memory."""
    yield csv_header(columns)
    yield from csv_lines_of(frames, rows)


def csv_header(columns: list[str]) -> bytes:
    """The header line of a CSV of `columns`, as `to_csv` writes it."""
    header = pa.array([str(name) for name in columns], pa.large_string())
    return (",".join(_quoted(header).to_pylist()) + "\n").encode("utf-8")


def csv_lines_of(
    frames: Iterable[pd.DataFrame], rows: int = CSV_CHUNK_ROWS
) -> Iterator[bytes | memoryview]:
    """`csv_chunks_of` without the header line: the lines of the frames, in order, so that the
    lines of a table written part by part by several jobs can be joined under one header."""
    pieces = (
        frame.iloc[start : start + rows] for frame in frames for start in range(0, len(frame), rows)
    )
    yield from in_order(_csv_lines, pieces)


def in_order(work: Callable[[T], R], items: Iterable[T], workers: int = 2) -> Iterator[R]:
    """`map(work, items)` on `workers` threads, in order, with at most `workers` + 1 results held.

    Arrow's kernels release the GIL, so two pieces of a CSV are formatted at once."""
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _csv_lines(frame: pd.DataFrame) -> memoryview:
    cells = _column_texts(frame)
    if len(cells) == 1:  # a lone empty cell would read back as a blank line, so csv quotes it
        cell = pc.fill_null(cells[0], _text(""))
        cells = [pc.if_else(pc.equal(cell, _text("")), _text('""'), cell)]
    try:
        return _written_by_arrow(cells)
    except pa.ArrowInvalid:  # a quoted cell: Arrow's writer takes no quotes (nor commas, breaks)
        return _joined_lines(cells)


def _written_by_arrow(cells: list[pa.Array]) -> memoryview:
    """Cells without quotes, commas or line breaks, as lines, by Arrow's CSV writer (in one pass)."""
    table = pa.table(cells, names=[str(i) for i in range(len(cells))])
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 13)
    pa_csv.write_csv(table, sink, options)  # missing cells empty, lines ended by "\n"
    return memoryview(sink.getvalue())


def _joined_lines(cells: list[pa.Array]) -> memoryview:
    """Any cells as lines, joined with commas (missing cells empty)."""
    empty = {"null_handling": "replace", "null_replacement": ""}
    # The last cell and "\n" first (cell + "\n" + nothing): the lines are built in one pass.
    last = pc.binary_join_element_wise(cells[-1], _text(""), _text("\n"), **empty)
    lines = pc.binary_join_element_wise(*cells[:-1], last, _text(","), **empty)
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    return _text_view(lines)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of `frame` exactly as `frame.to_csv(index=False, lineterminator="\\n")` writes it."""
    return b"".join(csv_chunks(frame))


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """Write `frame` as CSV (see `csv_chunks`) atomically, piece by piece."""
    write_bytes(path, csv_chunks(frame))


def write_appended(path: str | Path, first: str | Path, rest: Iterable[str | Path]) -> None:
    """Move the file `first` onto `path` with the bytes of each file of `rest` appended in order,
    atomically (`_replacing`): `first` takes the place of the temporary file (written once,
    never copied), the rest are copied onto its end by the kernel. `first` is gone afterwards,
    also when this fails: it is never left half-appended to be read again."""
    with _replacing(path) as tmp:
        shutil.move(first, tmp.name)  # a rename (a copy only across file systems)
        with open(tmp.name, "r+b") as target:  # not "ab": copy_file_range refuses O_APPEND
            target.seek(0, os.SEEK_END)
            for name in rest:
                with open(name, "rb") as part:
                    _copy_to(part, target)


def _copy_to(source, target) -> None:
    """Append all of an open file to another (`os.copy_file_range` where the system has it)."""
    total = left = os.fstat(source.fileno()).st_size
    try:
        while left > 0:
            copied = os.copy_file_range(source.fileno(), target.fileno(), min(left, 1 << 30))
            if copied == 0:
                break
            left -= copied
    except (AttributeError, OSError):  # no copy_file_range (or not between these files)
        source.seek(total - left)
        shutil.copyfileobj(source, target, 1 << 24)


def write_csv_parts(path: str | Path, columns: list[str], parts: Iterable[pd.DataFrame]) -> None:
    """Write frames with the same `columns` as one CSV (see `csv_chunks_of`) atomically, each
    part as it comes."""
    write_bytes(path, csv_chunks_of(columns, parts))
