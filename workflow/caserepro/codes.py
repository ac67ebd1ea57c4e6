"""Keys of several columns as one integer per row, for grouping, joining and sorting on codes.

The validation and the audit turn text key columns (case, timepoint, parameter, ...) into
integer codes once, then combine the codes of several columns into one key with
`combined_key`, instead of merging and sorting on text. (The derivation, `caserepro.metrics`,
groups and sorts categorical columns with pandas itself.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The columns that identify one examination: values printed together at one place (the key
#: the validation, the metrics and the audit group measurements by).
EXAMINATION = ["case_id", "timepoint", "modality", "method", "source"]


def combined_key(columns: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 per row that sorts like the code columns in turn (-1, missing, sorts first),
    and is equal exactly where every column's code is.

    Each column is (codes, vocabulary size); the key is their mixed-radix number. If that number
    could overflow, the key so far is renumbered densely first (same order, fewer values); keys
    from separate calls are then no longer comparable, so combine codes that will be compared
    with one another in one call.
    """
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    span = 1
    for codes, size in columns:
        if span * (size + 1) >= 2**62:
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            span = int(key.max()) + 1 if len(key) else 1
        # key * (size + 1) + codes + 1, in place: no temporary as long as the key
        key *= size + 1
        key += codes
        key += 1
        span *= size + 1
    return key


def distinct(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The column's distinct values (missing is one of them, if present) and, for each row, the
    position of its value among them: `pd.factorize(column, use_na_sentinel=False)`, but free for
    a categorical column, which already holds its values once and a code per row."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        codes, values = pd.factorize(column, use_na_sentinel=False)
        return codes, pd.Series(values)
    codes = column.cat.codes.to_numpy()
    values = pd.Series(column.cat.categories)
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(values), codes)
        values = pd.concat([values, pd.Series([None], dtype=values.dtype)], ignore_index=True)
    return codes, values


def row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row, equal for rows whose `columns` hold equal values (missing equals missing)."""
    parts = []
    for column in columns:
        codes, values = distinct(frame[column])
        parts.append((codes, len(values)))
    return combined_key(parts)
