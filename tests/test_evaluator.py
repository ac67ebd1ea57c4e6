"""The expression evaluator: a whitelist, and exact interval bounds checked against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from caserepro import evaluator
from hypothesis import given, settings
from hypothesis import strategies as st

EF = evaluator.parse("(lv_edv - lv_esv) / lv_edv")


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "lv_edv ** 2",
        "lv_edv.real",
        "abs(lv_edv)",
        "lv_edv if lv_esv else 1",
        "'text'",
        "lv_edv[0]",
        "lambda: 1",
        "min(lv_edv)",
        "lv_edv % 3",
        "True * lv_edv",
        "log10(lv_edv, 10)",
        "log(lv_edv)",
    ],
)
def test_anything_outside_the_whitelist_is_refused(text):
    with pytest.raises(evaluator.ExpressionError):
        evaluator.parse(text)


def test_the_whitelist_parses_numbers_names_operators_and_min_max():
    tree = evaluator.parse("-min(a, b) + 2.5 * (c - d) / max(e, f, 1)")
    assert dict(evaluator.names(tree)) == dict.fromkeys("abcdef", 1)


def test_ef_of_the_papers_first_visit_is_exact():
    # EDV 210 -> [209.5, 210.5], ESV 161 -> [160.5, 161.5]: EF is lowest at (209.5, 161.5).
    env = {
        "lv_edv": (np.array([209.5]), np.array([210.5])),
        "lv_esv": (161 + np.array([-0.5]), 161 + np.array([0.5])),
    }
    lo, hi = evaluator.bounds(EF, env)
    assert lo[0] == pytest.approx((209.5 - 161.5) / 209.5)
    assert hi[0] == pytest.approx((210.5 - 160.5) / 210.5)
    natural_lo, _ = evaluator.natural(EF, env)
    assert natural_lo[0] < lo[0]  # the naive interval is wider: EDV occurs twice


def test_solving_for_a_name_that_occurs_once():
    co, sv_hr = evaluator.parse("cardiac_output"), evaluator.parse("stroke_volume * heart_rate")
    assert evaluator.ast.unparse(evaluator.solve(co, sv_hr, "heart_rate")) == (
        "cardiac_output / stroke_volume"
    )
    sv, volumes = evaluator.parse("stroke_volume"), evaluator.parse("lv_edv - lv_esv")
    assert evaluator.ast.unparse(evaluator.solve(sv, volumes, "lv_esv")) == "lv_edv - stroke_volume"
    assert evaluator.solve(evaluator.parse("lvef"), EF, "lv_edv") is None  # occurs twice


EXPRESSIONS = [
    "(a - b) / a",
    "a - b",
    "a * b",
    "a / b",
    "(a + b) / (a * c)",
    "a * b / c - a",
    "min(a, b) + max(b, c)",
    "-a + 2 * b",
    "a / (b + c) + c",
    "6.1 + log10(a / (0.0307 * b))",
    "log10(a * b) - a / 100",
]

box = st.tuples(
    st.floats(1.0, 500.0), st.floats(0.0, 5.0), st.floats(1.0, 500.0), st.floats(0.0, 5.0)
)


def _corners_and_samples(tree, lo, hi, rng) -> np.ndarray:
    """The expression at every corner of the box and at random points inside it."""
    names = sorted(lo)
    corners = np.array(list(itertools.product((0, 1), repeat=len(names))))
    points = {n: np.r_[np.where(corners[:, i] == 0, lo[n], hi[n])] for i, n in enumerate(names)}
    for n in names:
        points[n] = np.r_[points[n], rng.uniform(lo[n], hi[n], 2000)]
    return evaluator.values(tree, points)


@settings(max_examples=60, deadline=None)
@given(
    text=st.sampled_from(EXPRESSIONS),
    a=box,
    b=box,
    c=box,
    seed=st.integers(0, 2**16),
)
def test_bounds_contain_every_sampled_value_and_are_reached_where_monotone(text, a, b, c, seed):
    tree = evaluator.parse(text)
    lo = {n: v[0] for n, v in zip("abc", (a, b, c), strict=True)}
    hi = {n: v[0] + v[1] for n, v in zip("abc", (a, b, c), strict=True)}
    used = set(evaluator.names(tree))
    lo, hi = {n: lo[n] for n in used}, {n: hi[n] for n in used}
    env = {n: (np.array([lo[n]]), np.array([hi[n]])) for n in used}
    low, high = (end[0] for end in evaluator.bounds(tree, env))
    sampled = _corners_and_samples(tree, lo, hi, np.random.default_rng(seed))
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    assert low - tolerance <= sampled.min() and sampled.max() <= high + tolerance
    if evaluator.exact_rows(tree, env) is True or evaluator.exact_rows(tree, env)[0]:
        # Each name once, or proved monotone in each repeated one: the range is reached at the
        # corners of the box, and the bounds are exactly those (not wider).
        assert sampled.min() == pytest.approx(low, rel=1e-9, abs=1e-9)
        assert sampled.max() == pytest.approx(high, rel=1e-9, abs=1e-9)


def test_printed_volumes_are_always_proved_monotone():
    # ESV of at least 5 mL (the dictionary's minimum) and volumes printed to 0 or 1 decimals.
    rng = np.random.default_rng(5)
    esv = rng.uniform(5, 600, 1000).round()
    edv = esv + rng.uniform(1, 100, 1000).round()
    env = {"lv_edv": (edv - 0.5, edv + 0.5), "lv_esv": (esv - 0.5, esv + 0.5)}
    assert evaluator.exact_rows(EF, env).all()


def test_a_divisor_spanning_zero_gives_an_unbounded_interval():
    tree = evaluator.parse("a / b")
    env = {"a": (np.array([1.0]), np.array([2.0])), "b": (np.array([-1.0]), np.array([1.0]))}
    assert [end[0] for end in evaluator.bounds(tree, env)] == [-np.inf, np.inf]


def test_a_missing_input_gives_a_missing_interval_on_that_row_only():
    env = {
        "lv_edv": (np.array([100.0, np.nan]), np.array([101.0, np.nan])),
        "lv_esv": (np.array([50.0, 50.0]), np.array([51.0, 51.0])),
    }
    lo, hi = evaluator.bounds(EF, env)
    assert not np.isnan(lo[0]) and np.isnan(lo[1]) and np.isnan(hi[1])


def test_a_non_monotone_row_keeps_the_enclosure():
    tree = evaluator.parse("a * a")  # not monotone over [-1, 2]: the minimum 0 is inside
    env = {"a": (np.array([-1.0, 1.0]), np.array([2.0, 2.0]))}
    lo, hi = evaluator.bounds(tree, env)
    assert lo[0] <= 0 and hi[0] >= 4  # an enclosure of [0, 4]
    assert (lo[1], hi[1]) == (1.0, 4.0)  # monotone where a > 0: exact


def test_log10_of_an_interval_is_the_logarithms_of_its_ends():
    tree = evaluator.parse("6.1 + log10(bicarbonate / (0.0307 * pco2))")
    # Kho 2021 at 0 h: HCO3 18.4 mmol/L, PCO2 31.5 mmHg, pH printed 7.37
    env = {
        "bicarbonate": (np.array([18.35]), np.array([18.45])),
        "pco2": (np.array([31.45]), np.array([31.55])),
    }
    lo, hi = evaluator.bounds(tree, env)
    assert lo[0] == pytest.approx(6.1 + np.log10(18.35 / (0.0307 * 31.55)))
    assert hi[0] == pytest.approx(6.1 + np.log10(18.45 / (0.0307 * 31.45)))
    assert 7.377 < lo[0] < hi[0] < 7.382


def test_log10_is_unbounded_below_at_zero_and_missing_where_never_positive():
    tree = evaluator.parse("log10(a)")
    env = {"a": (np.array([0.0, -2.0, 10.0, np.nan]), np.array([100.0, -1.0, 1000.0, 5.0]))}
    lo, hi = evaluator.natural(tree, env)
    assert lo[0] == -np.inf and hi[0] == pytest.approx(2.0)
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    assert (lo[2], hi[2]) == pytest.approx((1.0, 3.0))
    assert np.isnan(lo[3]) and np.isnan(hi[3])


def test_the_derivative_of_log10_proves_monotonicity():
    tree = evaluator.parse("log10(a * b) - a / 100")
    env = {
        "a": (np.array([1.0, 60.0]), np.array([2.0, 70.0])),
        "b": (np.array([1.0] * 2), np.array([1.1] * 2)),
    }
    # d/da = 1 / (a ln 10) - 1/100: positive for a < 43.4, negative above
    assert evaluator.exact_rows(tree, env).tolist() == [True, True]
    env["a"] = (np.array([30.0]), np.array([60.0]))
    env["b"] = (np.array([1.0]), np.array([2.0]))
    assert evaluator.exact_rows(tree, env).tolist() == [False]
