"""Interval arithmetic: a derived interval always holds what any inputs inside their intervals give."""

from __future__ import annotations

import functools
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from caserepro import evaluator, formulas
from caserepro.formatting import format_printed
from caserepro.intervals import (
    Interval,
    gap,
    meets,
    month_number,
    month_span,
    point,
    powers_of_ten,
    printed,
    printed_decimals,
    year_and_month,
)
from caserepro.validate import load_raw
from conftest import RAW_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

#: Slack for floating-point error when a value sits exactly on an interval's end.
EPS = 1e-9


def one(lo: float, hi: float) -> Interval:
    return Interval(pd.Series([lo]), pd.Series([hi]))


def inside(value: float, iv: Interval) -> bool:
    lo, hi = float(iv.lo.iloc[0]), float(iv.hi.iloc[0])
    tol = EPS * max(1.0, abs(lo), abs(hi))
    return lo - tol <= value <= hi + tol


@st.composite
def printed_value(draw, low: float = 1.0, high: float = 500.0):
    """A printed positive value (as the paper prints: 0-2 decimals), and a true value it stands for."""
    decimals = draw(st.integers(0, 2))
    value = round(draw(st.floats(low, high)), decimals)
    half = 0.5 * 10.0**-decimals
    position = draw(st.floats(-1.0, 1.0))
    return value, decimals, value + position * half


def as_interval(value: float, decimals: int) -> Interval:
    return printed(pd.Series([value]), pd.Series([decimals]))


def test_printed_interval_is_half_a_unit_of_the_last_digit_each_side(tables):
    m = tables["measurements"]
    iv = printed(m["value_num"], m["decimals"])
    assert ((iv.hi - iv.lo) - 10.0 ** -m["decimals"].astype(float)).abs().max() < 1e-9
    assert ((iv.mid - m["value_num"]).abs() < 1e-9).all()


def test_more_than_makes_a_lower_bound_through_the_codebooks_meaning(tables):
    m = tables["measurements"]
    bound = m[m["qualifier"] == "more than"]
    assert len(bound) > 0 and (bound["qualifier_means"] == ">").all()  # qualifiers.csv `means`
    iv = printed(bound["value_num"], bound["decimals"], bound["qualifier_means"])
    assert (iv.lo == bound["value_num"]).all()
    assert (iv.hi == math.inf).all()


@functools.cache
def _ef_side() -> formulas.Side:
    identities = formulas.load(
        pd.read_csv(RAW_DIR / "formulas.csv"), pd.read_csv(RAW_DIR / "dictionary.csv")
    )
    (side,) = [s for _, s in formulas.implied_by(identities, "lvef")]
    return side


def ejection_fraction(edv: Interval, esv: Interval) -> Interval:
    """EF from the volumes by formulas.csv's identity (the one definition), through the evaluator."""
    side = _ef_side()
    env = {
        "lv_edv": (edv.lo.to_numpy(), edv.hi.to_numpy()),
        "lv_esv": (esv.lo.to_numpy(), esv.hi.to_numpy()),
    }
    lo, hi = evaluator.bounds(side.tree, env)
    return Interval(pd.Series(lo * side.factor), pd.Series(hi * side.factor))


@settings(deadline=None)  # the first call loads formulas.csv (pint's registry)
@given(printed_value(50, 700), st.floats(0.05, 0.95), st.integers(0, 2), st.floats(-1, 1))
def test_ef_interval_covers_rounding_of_volumes(edv, share, esv_decimals, esv_position):
    edv_value, edv_decimals, edv_true = edv
    esv_value = round(edv_value * share, esv_decimals)
    esv_true = esv_value + esv_position * 0.5 * 10.0**-esv_decimals
    ef = ejection_fraction(
        as_interval(edv_value, edv_decimals), as_interval(esv_value, esv_decimals)
    )
    assert inside((edv_true - esv_true) / edv_true * 100, ef)


@settings(deadline=None)
@given(printed_value(50, 700), st.floats(0.05, 0.95), st.integers(0, 2))
def test_ef_interval_is_tight_at_its_corners(edv, share, esv_decimals):
    edv_value, edv_decimals, _ = edv
    esv_value = round(edv_value * share, esv_decimals)
    e, s = as_interval(edv_value, edv_decimals), as_interval(esv_value, esv_decimals)
    ef = ejection_fraction(e, s)
    e_lo, e_hi, s_lo, s_hi = (float(x.iloc[0]) for x in (e.lo, e.hi, s.lo, s.hi))
    assert math.isclose(float(ef.lo.iloc[0]), (e_lo - s_hi) / e_lo * 100)
    assert math.isclose(float(ef.hi.iloc[0]), (e_hi - s_lo) / e_hi * 100)


@given(printed_value(), printed_value())
def test_difference_covers_rounding(a, b):
    (av, ad, at), (bv, bd, bt) = a, b
    assert inside(at - bt, as_interval(av, ad) - as_interval(bv, bd))


@given(printed_value(), printed_value())
def test_sum_and_product_cover_rounding(a, b):
    (av, ad, at), (bv, bd, bt) = a, b
    assert inside(at + bt, as_interval(av, ad) + as_interval(bv, bd))
    assert inside(at * bt, as_interval(av, ad) * as_interval(bv, bd))


@given(printed_value(1, 300), printed_value(1, 150))
def test_quotient_covers_rounding_implied_bsa(sv, svi):
    (sv_v, sv_d, sv_t), (svi_v, svi_d, svi_t) = sv, svi
    assert inside(sv_t / svi_t, as_interval(sv_v, sv_d) / as_interval(svi_v, svi_d))


@given(printed_value(0.5, 25), printed_value(5, 250))
def test_implied_heart_rate_covers_rounding(co, sv):
    (co_v, co_d, co_t), (sv_v, sv_d, sv_t) = co, sv
    assert inside(co_t / sv_t * 1000, (as_interval(co_v, co_d) / as_interval(sv_v, sv_d)) * 1000.0)


def test_division_by_an_interval_holding_zero_is_unbounded():
    result = one(1, 2) / one(-0.5, 0.5)
    assert float(result.lo.iloc[0]) == -math.inf
    assert float(result.hi.iloc[0]) == math.inf


def test_missing_input_gives_missing_interval():
    result = one(1, 2) - one(float("nan"), float("nan"))
    assert bool(result.missing.iloc[0])


def test_neighbouring_printed_values_touch_but_do_not_meet():
    a, b = as_interval(3.4, 1), as_interval(3.5, 1)
    assert not bool(meets(a, b).iloc[0])
    assert float(gap(a, b).iloc[0]) == 0.0
    assert bool(meets(a, a).iloc[0])


def test_a_point_on_an_interval_end_meets_it():
    assert bool(meets(point(pd.Series([20.5])), as_interval(20, 0)).iloc[0])


def test_gap_is_the_distance_between_intervals():
    assert math.isclose(float(gap(as_interval(20, 0), one(22.9, 23.8)).iloc[0]), 22.9 - 20.5)


def test_month_span_of_year_and_month_dates(tables):
    t = tables["timepoints"]
    span = month_span(t["date"])
    length = span.hi - span.lo
    assert (length[t["date"].str.len() == 4] == 12).all()
    assert (length[t["date"].str.len() == 7] == 1).all()


def test_product_takes_the_smallest_and_largest_corner_row_by_row():
    a = Interval(pd.Series([-2.0, 1.0, float("nan")]), pd.Series([3.0, 2.0, 1.0]))
    b = Interval(pd.Series([4.0, -3.0, 1.0]), pd.Series([5.0, -1.0, 2.0]))
    product = a * b
    assert list(product.lo[:2]) == [-10.0, -6.0] and list(product.hi[:2]) == [15.0, -1.0]
    assert product.missing.tolist() == [False, False, True]
    scaled = a * 1000.0
    assert list(scaled.lo[:2]) == [-2000.0, 1000.0] and list(scaled.hi[:2]) == [3000.0, 2000.0]


def test_product_of_rows_with_different_labels_aligns_them_first():
    a = Interval(pd.Series([1.0, 2.0], index=[0, 1]), pd.Series([2.0, 3.0], index=[0, 1]))
    b = Interval(pd.Series([10.0, 20.0], index=[1, 2]), pd.Series([10.0, 20.0], index=[1, 2]))
    product = a * b
    assert list(product.lo.index) == [0, 1, 2]
    assert product.lo.isna().tolist() == [True, False, True]
    assert (float(product.lo[1]), float(product.hi[1])) == (20.0, 30.0)


def test_printed_keeps_each_rows_label_and_precision():
    values = pd.Series([20.0, 3.4, 125.0], index=[7, 3, 5], name="v")
    decimals = pd.Series([0, 1, 0], index=[7, 3, 5], name="v")
    iv = printed(values, decimals, pd.Series([None, None, ">"], index=[7, 3, 5]))
    assert list(iv.lo.index) == [7, 3, 5] and iv.lo.name == "v"
    assert list(iv.lo) == [19.5, 3.35, 125.0]
    assert list(iv.hi) == [20.5, 3.45, math.inf]
    assert printed(values, decimals.rename("d")).lo.name is None


def test_month_span_of_repeated_and_missing_dates():
    span = month_span(pd.Series(["2021-03", "2021", None, "2021-03"], index=[4, 5, 6, 7]))
    assert list(span.lo.index) == [4, 5, 6, 7]
    assert span.lo.fillna(-1).tolist() == [2021 * 12 + 2, 2021 * 12, -1, 2021 * 12 + 2]
    assert span.hi.fillna(-1).tolist() == [2021 * 12 + 3, 2021 * 12 + 12, -1, 2021 * 12 + 3]


def test_format_printed_gives_each_row_its_own_decimals():
    values = pd.Series([0.0, -0.0, 1.25, 1.25, 264.0, 12567.0, 264.0], index=list("abcdefg"))
    decimals = pd.Series([1, 1, 1, 2, 1, 0, 1], index=list("abcdefg"))
    text = format_printed(values, decimals)
    assert list(text) == ["0.0", "-0.0", "1.2", "1.25", "264.0", "12567", "264.0"]
    assert list(text.index) == list("abcdefg") and text.dtype == "str"
    assert list(format_printed(pd.Series([5, 7]), pd.Series([1.0, 0.0]))) == ["5.0", "7"]
    assert len(format_printed(values.iloc[:0], decimals.iloc[:0])) == 0


def test_powers_of_ten_are_the_very_doubles_that_pow_gives():
    whole = np.arange(-25, 26)  # looked up from -20 to 20, computed beyond
    assert np.array_equal(powers_of_ten(whole), 10.0 ** whole.astype(float))
    assert np.array_equal(powers_of_ten(np.array([0, 1, 2, 1, 0])), [1.0, 10.0, 100.0, 10.0, 1.0])
    fractional = np.array([0.5, -2.0, np.nan, 3.0])  # floats: computed
    assert np.array_equal(powers_of_ten(fractional), 10.0**fractional, equal_nan=True)
    assert powers_of_ten(np.zeros(0, dtype=np.int64)).shape == (0,)


def test_printed_is_the_same_for_whole_and_float_decimals():
    values = pd.Series([20.0, 3.4, 38.64, 0.05, np.nan])
    decimals = pd.Series([0, 1, 2, 2, 1])
    by_float = printed(values, decimals.astype(float))
    for whole in (decimals, decimals.astype(np.uint8)):
        by_int = printed(values, whole)
        pd.testing.assert_series_equal(by_int.lo, by_float.lo)
        pd.testing.assert_series_equal(by_int.hi, by_float.hi)
    assert by_int.lo.tolist()[:4] == [19.5, 3.35, 38.635, 0.045]


def test_printed_decimals_counts_the_digits_after_the_point():
    printed = pd.Series(["38.64", "264.0", "20", None, "0.125"], dtype="str")
    assert printed_decimals(printed).tolist() == [2, 1, 0, 0, 3]


def test_less_than_makes_the_printed_value_an_upper_bound():
    values, decimals = pd.Series([1.0, 505.0, 20.0, 7.0]), pd.Series([1, 0, 0, 0])
    got = printed(values, decimals, pd.Series(["<", "≥", None, "≈"]))
    assert got.lo.tolist() == [float("-inf"), 505.0, 19.5, 6.5]
    assert got.hi.tolist() == [1.0, float("inf"), 20.5, 7.5]
    # words are the codebook's, not the code's: a word is no meaning
    unread = printed(values, decimals, pd.Series(["less than", "more than", None, None]))
    assert unread.lo.tolist()[:2] == [0.95, 504.5]


def test_month_number_and_year_and_month_read_dates_as_month_span_does():
    dates = pd.Series(["2022-08", "2025", None, "2022-12"], index=[3, 1, 2, 0])
    assert month_number(dates).fillna(-1).tolist() == [2022 * 12 + 7, -1, -1, 2022 * 12 + 11]
    parts = year_and_month(dates)
    assert list(parts.index) == [3, 1, 2, 0]
    assert parts["year"].fillna(-1).tolist() == [2022, 2025, -1, 2022]
    assert parts["month"].fillna(-1).tolist() == [8, -1, -1, 12]


def test_a_papers_own_word_for_a_bound_is_one_codebook_row(tmp_path):
    """'under 505' means what qualifiers.csv says it means: a new row there, no code."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    with open(raw / "qualifiers.csv", "a", encoding="utf-8") as handle:
        handle.write("under,<,<,yes,The paper says 'under': the true value is below it\n")
    text = (raw / "measurements.csv").read_text("utf-8")
    (raw / "measurements.csv").write_text(text.replace(",505,more than,", ",505,under,"), "utf-8")
    m = load_raw(raw)["measurements"]
    walk = m[(m["qualifier"] == "under").to_numpy()]
    assert len(walk) == 1 and walk["qualifier_means"].astype(str).tolist() == ["<"]
    iv = printed(walk["value_num"], walk["decimals"], walk["qualifier_means"])
    assert (iv.lo.iloc[0], iv.hi.iloc[0]) == (-math.inf, 505.0)


def test_a_converted_value_stands_for_half_a_unit_of_its_printed_digit():
    """12.2 kPa in mmHg (7.50062 mmHg per kPa): [12.15, 12.25] kPa, not 91.51 +- 0.05 mmHg; an
    unconverted value in the same call keeps exactly its usual interval; a bound stays a bound."""
    kpa = 7.500615758
    values = pd.Series([12.2 * kpa, 91.7, 1.0 * kpa])
    decimals = pd.Series([1, 1, 1])
    means = pd.Series(["=", "=", "<"])
    scale = pd.Series([kpa, 1.0, kpa])
    converted = printed(values, decimals, means, scale)
    assert converted.lo[0] == pytest.approx(12.15 * kpa) and converted.hi[0] == pytest.approx(
        12.25 * kpa
    )
    plain = printed(values, decimals, means)
    assert (converted.lo[1], converted.hi[1]) == (plain.lo[1], plain.hi[1]) == (91.65, 91.75)
    assert (converted.lo[2], converted.hi[2]) == (-np.inf, values[2])
    assert printed(values, decimals, means, pd.Series([1.0, 1.0, 1.0])).lo.equals(plain.lo)
