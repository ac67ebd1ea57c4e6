"""Interval arithmetic for printed numbers: what a rounded value can stand for, and what follows from it.

A value printed with d decimals stands for every number that rounds to it: 20 stands for
[19.5, 20.5], 38.64 for [38.635, 38.645]. The ends are kept closed because the paper does not say
whether it rounds halves up or to even. Derived quantities (SV, EF, implied BSA, implied heart
rate) are intervals computed from their inputs' intervals by `caserepro.evaluator`, from the
identities of data/raw/formulas.csv (`caserepro.formulas`).

Intervals are vectorised: an `Interval` holds two aligned pandas Series (`lo`, `hi`), one entry
per row of a table. A missing input gives a missing (NaN) interval. `gap`, `meets`, `intersect`
and `Interval.missing` also take intervals of plain numpy arrays (and then return arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: What a qualifier means (qualifiers.csv `means`, filled in by validation as each measurement's
#: `qualifier_means`) when it makes a printed value a one-sided bound. The paper's own words
#: ('more than', 'at least', '<' ...) are the codebook's, never listed here.
LOWER_BOUNDS = (">", "≥")
UPPER_BOUNDS = ("<", "≤")


@dataclass(frozen=True)
class Interval:
    """Closed intervals [lo, hi], one per row (aligned Series)."""

    lo: pd.Series
    hi: pd.Series

    @property
    def mid(self) -> pd.Series:
        """The midpoint (the infinite end wins for a one-sided interval)."""
        return (self.lo + self.hi) / 2

    @property
    def missing(self) -> pd.Series:
        """True where either end is unknown."""
        return pd.isna(self.lo) | pd.isna(self.hi)

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def __mul__(self, other: Interval | float) -> Interval:
        if not isinstance(other, Interval):
            other = point(pd.Series(float(other), index=self.lo.index))
        products = [self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi]
        index = self.lo.index
        if all(p.index.equals(index) for p in products):
            # Aligned rows (the usual case): the smallest and largest product row by row.
            values = [p.to_numpy(dtype="float64") for p in products]
            lo = np.minimum(np.minimum(np.minimum(values[0], values[1]), values[2]), values[3])
            hi = np.maximum(np.maximum(np.maximum(values[0], values[1]), values[2]), values[3])
            return Interval(pd.Series(lo, index=index), pd.Series(hi, index=index))
        stacked = pd.concat(products, axis=1)
        return Interval(stacked.min(axis=1, skipna=False), stacked.max(axis=1, skipna=False))

    def __truediv__(self, other: Interval) -> Interval:
        """Division; a divisor interval that contains zero gives (-inf, inf)."""
        spans_zero = (other.lo <= 0) & (other.hi >= 0)
        inverse = Interval(1 / other.hi.where(~spans_zero), 1 / other.lo.where(~spans_zero))
        result = self * inverse
        unbounded = spans_zero & ~self.missing
        return Interval(result.lo.mask(unbounded, -np.inf), result.hi.mask(unbounded, np.inf))


def point(values: pd.Series) -> Interval:
    """Exact values: degenerate intervals [v, v]."""
    values = values.astype("float64")
    return Interval(values, values)


def printed(
    values: pd.Series,
    decimals: pd.Series,
    means: pd.Series | None = None,
    unit_scale: pd.Series | None = None,
) -> Interval:
    """What printed values stand for: ± half a unit of the last printed digit.

    `means` is what each value's qualifier means (qualifiers.csv's `means`: validation's
    `qualifier_means`): '>' or '≥' makes the value x a lower bound, (x, inf); '<' or '≤' an upper
    bound, (-inf, x). Any other meaning ('≈', approximately) keeps the rounding interval, the
    only width the paper's text implies. `unit_scale` (validation's `scale`: dictionary units
    per printed unit) is given for values converted from the unit the paper prints: their last
    digit is a digit of the printed unit, so 12.2 kPa stands for [12.15, 12.25] kPa, that is
    [91.13, 91.88] mmHg, not 91.51 ± 0.05 (an offset, as °C to K has, does not change a width).
    """
    values = values.astype("float64")
    if decimals.dtype.kind != "i" or not values.index.equals(decimals.index):
        decimals = decimals.astype("float64")  # (signed whole numbers stay: looked up)
    if not values.index.equals(decimals.index):
        values, decimals = values.align(decimals)
    v, d = values.to_numpy(), decimals.to_numpy()  # d: whole numbers, or floats (NaN: unknown)
    with np.errstate(all="ignore"):
        half = powers_of_ten(-d)
        half *= 0.5
        scale = powers_of_ten(d + 1)  # ends are snapped to one more decimal
        lo, hi = _snap(v - half, scale), _snap(v + half, scale)
        if unit_scale is not None:  # a converted value: half a printed digit, converted
            units = unit_scale.astype("float64").to_numpy()
            converted = ~np.isnan(units) & (units != 1.0)
            if converted.any():
                lo = np.where(converted, v - half * units, lo)
                hi = np.where(converted, v + half * units, hi)
    # A result keeps the inputs' name only where both have it (as pandas arithmetic does).
    name = values.name if values.name == decimals.name else None
    lo = pd.Series(lo, index=values.index, name=name)
    hi = pd.Series(hi, index=values.index, name=name)
    if means is not None:
        bound = means.isin(LOWER_BOUNDS).fillna(False).astype(bool)
        lo = lo.mask(bound, values)
        hi = hi.mask(bound, np.inf)
        bound = means.isin(UPPER_BOUNDS).fillna(False).astype(bool)
        lo = lo.mask(bound, -np.inf)
        hi = hi.mask(bound, values)
    return Interval(lo, hi)


#: Powers of ten that `powers_of_ten` looks up rather than computes: 10 ** -20 ... 10 ** 20.
_LOWEST_TABULATED = -20
_POWERS = 10.0 ** np.arange(_LOWEST_TABULATED, 21, dtype=np.float64)


def powers_of_ten(exponent: np.ndarray) -> np.ndarray:
    """10.0 ** exponent, the very same doubles; whole-number exponents from -20 to 20 (a
    cohort's millions of decimals) are looked up in a table rather than computed."""
    exponent = np.asarray(exponent)
    if exponent.dtype.kind in "iu" and exponent.size:
        lowest, highest = exponent.min(), exponent.max()
        if lowest >= _LOWEST_TABULATED and highest - _LOWEST_TABULATED < len(_POWERS):
            return _POWERS.take(exponent - _LOWEST_TABULATED)
    with np.errstate(all="ignore"):
        return 10.0 ** exponent.astype(np.float64)


def _snap(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The double nearest to each decimal number, so that 3.4 + 0.05 and 3.5 - 0.05 are one end.

    `scale` is 10 ** the number of decimals to keep. Works in place: `values` (a temporary
    array) is overwritten and returned, which spares a cohort's millions of rows two copies.
    """
    values *= scale
    np.round(values, out=values)
    values /= scale
    return values


def hull(lo: pd.Series, hi: pd.Series, by: list[pd.Series] | pd.DataFrame) -> pd.DataFrame:
    """Smallest interval covering every interval of a group: columns `lo`, `hi` indexed by group."""
    frame = pd.DataFrame({"lo": lo, "hi": hi})
    return frame.groupby(by, dropna=False).agg(lo=("lo", "min"), hi=("hi", "max"))


def intersect(a: Interval, b: Interval) -> Interval:
    """The common part of two intervals (lo > hi where they do not meet)."""
    return Interval(np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi))


def meets(a: Interval, b: Interval) -> pd.Series:
    """True where two intervals share more than an end point, or a point value lies in the other.

    Two printed values of the same precision that differ by one unit (3.4 and 3.5) only touch at
    an end, and do not meet: they are different numbers.
    """
    common = intersect(a, b)
    degenerate = (a.lo == a.hi) | (b.lo == b.hi)
    return (common.lo < common.hi) | ((common.lo == common.hi) & degenerate)


def gap(a: Interval, b: Interval) -> pd.Series:
    """Distance between two intervals (0 where they meet or touch)."""
    return np.maximum(0.0, np.maximum(b.lo - a.hi, a.lo - b.hi))


def month_span(date: pd.Series) -> Interval:
    """Months (since year 0) a 'YYYY-MM' or 'YYYY' date can mean: [start, end) as [lo, hi]."""
    # Each distinct date is parsed once, then spread back over the rows.
    codes, distinct = pd.factorize(date, use_na_sentinel=False)
    parts = pd.Series(distinct).astype("str").str.extract(r"^(\d{4})(?:-(\d{2}))?$")
    parts = parts.astype("float64")
    year, month = parts[0].to_numpy(), parts[1].to_numpy()
    start = (year * 12 + np.nan_to_num(month - 1, nan=0.0))[codes]
    length = np.where(np.isnan(month), 12.0, 1.0)[codes]
    return Interval(pd.Series(start, index=date.index), pd.Series(start + length, index=date.index))


def month_number(date: pd.Series) -> pd.Series:
    """Months since year 0 of 'YYYY-MM' dates (`month_span`'s start); missing for a year only."""
    span = month_span(date)
    return span.lo.where(span.hi - span.lo == 1)


def year_and_month(date: pd.Series) -> pd.DataFrame:
    """Year and month of 'YYYY-MM' or 'YYYY' dates (month missing for a year only), as
    `month_span` reads them."""
    span = month_span(date)
    year = np.floor(span.lo / 12)
    month = (span.lo - 12 * year + 1).where(span.hi - span.lo == 1)
    return pd.DataFrame({"year": year, "month": month}, index=date.index)


#: The typographic minus (U+2212) a paper may print, read as the hyphen-minus.
TYPOGRAPHIC_MINUS = "\u2212"


def printed_number(printed: pd.Series, errors: str = "raise") -> pd.Series:
    """Numbers as printed ('7.35', '-5.1', '−5.1') as floats; `errors='coerce'` gives NaN for a
    text that is not one. The typographic minus reads as a minus."""
    text = printed.astype("string").str.replace(TYPOGRAPHIC_MINUS, "-", regex=False)
    return pd.to_numeric(text, errors=errors).astype("float64")


def printed_decimals(printed: pd.Series) -> pd.Series:
    """Digits after the decimal point of numbers as printed ('38.64' -> 2, '264.0' -> 1, '20' -> 0)."""
    point = printed.str.find(".")
    after = (printed.str.len() - point - 1).where(point >= 0, 0)
    return after.fillna(0).astype("int64")
