"""Print numbers the way the paper prints them: with the value's own number of decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd


def format_printed(values: pd.Series, decimals: pd.Series) -> pd.Series:
    """Each value with its own decimals (12567 -> '12567', 264.0 with 1 -> '264.0', 38.64 -> '38.64')."""
    if len(values) != len(decimals):
        raise ValueError("values and decimals differ in length")
    if values.dtype != np.float64:
        texts = [f"{v:.{int(d)}f}" for v, d in zip(values, decimals, strict=True)]
        return pd.Series(texts, index=values.index, dtype="str")
    # Each distinct (value, decimals) pair is formatted once, then spread back over the rows.
    # Values are told apart by their bits, so that -0.0 (printed '-0') stays apart from 0.0.
    value_code, bits = pd.factorize(values.to_numpy().view(np.int64))
    decimal_code, places = pd.factorize(decimals, use_na_sentinel=False)
    pair_code, pairs = pd.factorize(value_code * len(places) + decimal_code)
    numbers = bits.view(np.float64)[pairs // len(places)]
    digits = places[pairs % len(places)]
    texts = [f"{v:.{int(d)}f}" for v, d in zip(numbers, digits, strict=True)]
    return pd.Series(pd.array(texts, dtype="str").take(pair_code), index=values.index)


def detail_numbers(values: pd.Series) -> pd.Series:
    """Numbers for a detail text: up to four decimals, no trailing zeros ('inf' for infinity);
    each distinct number is formatted once."""
    codes, distinct = pd.factorize(np.round(np.asarray(values, dtype="float64"), 4))
    words = [f"{v:.4f}".rstrip("0").rstrip(".") if np.isfinite(v) else str(v) for v in distinct]
    texts = pd.array([*words, "nan"], dtype="str")  # code -1 (missing): the last, 'nan'
    return pd.Series(texts.take(codes), index=values.index)
