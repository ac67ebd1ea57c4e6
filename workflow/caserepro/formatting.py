"""Print numbers the way the paper prints them: with the value's own number of decimals."""

from __future__ import annotations

import pandas as pd


def format_printed(values: pd.Series, decimals: pd.Series) -> pd.Series:
    """Each value with its own decimals (12567 -> '12567', 264.0 with 1 -> '264.0', 38.64 -> '38.64')."""
    return pd.Series(
        [f"{v:.{int(d)}f}" for v, d in zip(values, decimals, strict=True)],
        index=values.index,
        dtype="str",
    )
