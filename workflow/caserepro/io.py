"""Read and write the pipeline's intermediate and output files, always the same bytes for the same data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes atomically (a temporary file renamed into place), so no half-written file is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)  # readable like any other output (temporary files start at 0600)
    os.replace(tmp.name, path)


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))


def write_table(path: str | Path, frame: pd.DataFrame) -> None:
    """Write a validated table as Parquet (typed, compact, byte-stable for the same data)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.reset_index(drop=True).to_parquet(tmp, index=False, compression="zstd")
    os.replace(tmp, path)


def read_tables(files: dict[str, str | Path]) -> dict[str, pd.DataFrame]:
    """Read validated tables by name."""
    return {name: pd.read_parquet(path) for name, path in files.items()}
