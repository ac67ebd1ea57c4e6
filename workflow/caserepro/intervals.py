"""Interval arithmetic for printed numbers: what a rounded value can stand for, and what follows from it.

A value printed with d decimals stands for every number that rounds to it: 20 stands for
[19.5, 20.5], 38.64 for [38.635, 38.645]. The ends are kept closed because the paper does not say
whether it rounds halves up or to even. Derived quantities (SV, EF, implied BSA, implied heart
rate) are intervals computed from their inputs' intervals, with monotonicity handled explicitly
where an input appears twice (EF = (EDV - ESV) / EDV), so the derived interval is the tightest one
that contains the value computed from any inputs inside the input intervals.

Intervals are vectorised: an `Interval` holds two aligned pandas Series (`lo`, `hi`), one entry
per row of a table. A missing input gives a missing (NaN) interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Qualifiers that turn a printed value into a one-sided bound.
LOWER_BOUND_QUALIFIERS = ("more than",)


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
        return self.lo.isna() | self.hi.isna()

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def __mul__(self, other: Interval | float) -> Interval:
        if not isinstance(other, Interval):
            other = point(pd.Series(float(other), index=self.lo.index))
        products = [self.lo * other.lo, self.lo * other.hi, self.hi * other.lo, self.hi * other.hi]
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


def printed(values: pd.Series, decimals: pd.Series, qualifier: pd.Series | None = None) -> Interval:
    """What printed values stand for: ± half a unit of the last printed digit.

    A 'more than' qualifier makes the value a lower bound: (v, inf). Other qualifiers
    ('approximately') keep the rounding interval, the only width the paper's text implies.
    """
    values = values.astype("float64")
    decimals = decimals.astype("float64")
    half = 0.5 * 10.0 ** (-decimals)
    lo, hi = _snap(values - half, decimals + 1), _snap(values + half, decimals + 1)
    if qualifier is not None:
        bound = qualifier.isin(LOWER_BOUND_QUALIFIERS).fillna(False).astype(bool)
        lo = lo.mask(bound, values)
        hi = hi.mask(bound, np.inf)
    return Interval(lo, hi)


def _snap(values: pd.Series, decimals: pd.Series) -> pd.Series:
    """The double nearest to each decimal number, so that 3.4 + 0.05 and 3.5 - 0.05 are one end."""
    scale = 10.0**decimals
    return (values * scale).round() / scale


def ejection_fraction(edv: Interval, esv: Interval) -> Interval:
    """EF (%) = (EDV - ESV) / EDV x 100: falls with ESV and rises with EDV (both positive)."""
    return Interval(
        (edv.lo - esv.hi) / edv.lo * 100,
        (edv.hi - esv.lo) / edv.hi * 100,
    )


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
    parts = date.astype("str").str.extract(r"^(\d{4})(?:-(\d{2}))?$").astype("float64")
    year, month = parts[0], parts[1]
    start = year * 12 + (month - 1).fillna(0)
    length = pd.Series(np.where(month.isna(), 12.0, 1.0), index=date.index)
    return Interval(start, start + length)
