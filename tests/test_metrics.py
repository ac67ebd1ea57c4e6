"""Derived metrics follow from the raw numbers and from config thresholds, never from literals."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from caserepro import paths
from caserepro.metrics import (
    change_from_baseline,
    classifications,
    derive_metrics,
    haemodynamics,
    implied,
    remodelling,
    to_csv,
)


@pytest.fixture(scope="module")
def thresholds(config) -> dict:
    return config["thresholds"]


def printed_values(tables, parameter: str, source: str) -> pd.DataFrame:
    m = tables["measurements"]
    m = m[(m["parameter"] == parameter) & (m["source"] == source)]
    return m.assign(method=m["method"].fillna(""))[["timepoint", "method", "value_num"]]


def test_every_metrics_table_is_named_in_paths(tables, thresholds):
    assert tuple(derive_metrics(tables, thresholds)) == paths.METRIC_TABLES


def test_stroke_volume_and_ef_recomputed_from_table_volumes(tables):
    h = haemodynamics(tables)
    h = h[h["source"] == "Table 1"].assign(method="")
    edv = printed_values(tables, "lv_edv", "Table 1")
    esv = printed_values(tables, "lv_esv", "Table 1")
    both = edv.merge(esv, on=["timepoint", "method"], suffixes=("_edv", "_esv"))
    joined = h.merge(both, on=["timepoint", "method"])
    assert len(joined) == len(both) == len(h)
    sv = joined["value_num_edv"] - joined["value_num_esv"]
    assert (joined["stroke_volume"] - sv).abs().max() < 1e-9
    assert (joined["lvef"] - 100 * sv / joined["value_num_edv"]).abs().max() < 1e-3
    assert ((joined["lvef_low"] <= joined["lvef"]) & (joined["lvef"] <= joined["lvef_high"])).all()


def test_table1_ef_disagrees_with_volumes_at_first_and_last_visit(tables):
    h = haemodynamics(tables)
    t1 = h[h["source"] == "Table 1"]
    outside = t1[
        (t1["lvef_reported"] < t1["lvef_low"] - 0.5) | (t1["lvef_reported"] > t1["lvef_high"] + 0.5)
    ]
    assert sorted(outside["timepoint"]) == ["visit1", "visit4"]
    assert outside.set_index("timepoint")["lvef"].round(1).to_dict() == {
        "visit1": 23.3,
        "visit4": 57.0,
    }


def test_implied_bsa_is_sv_over_svi_per_method(tables):
    i = implied(tables)
    i = i[i["source"] == "Table 2"]
    sv = printed_values(tables, "stroke_volume", "Table 2")
    svi = printed_values(tables, "stroke_volume_index", "Table 2")
    ratio = sv.merge(svi, on=["timepoint", "method"])
    ratio = ratio.assign(bsa=ratio["value_num_x"] / ratio["value_num_y"])
    joined = i.merge(ratio, on=["timepoint", "method"])
    assert len(joined) == 4
    assert (joined["bsa_from_sv"] - joined["bsa"]).abs().max() < 1e-3
    assert (joined["heart_rate_low"] < joined["heart_rate"]).all()


def test_change_from_baseline_is_value_minus_first_visit(tables):
    c = change_from_baseline(tables)
    assert set(c["source"]) == set(tables["table_layout"]["source"])
    assert ((c["value"] - c["baseline_value"] - c["change"]).abs() < 1e-6).all()
    bnp = c[(c["parameter"] == "nt_probnp")].set_index("timepoint")
    first = printed_values(tables, "nt_probnp", "Table 1").set_index("timepoint")["value_num"]
    assert (bnp["baseline_value"] == first["visit1"]).all()
    assert bnp.loc["visit4", "change_percent"] == pytest.approx(
        100 * (first["visit4"] / first["visit1"] - 1), abs=1e-3
    )


def test_categories_follow_config_thresholds(tables, thresholds):
    c = classifications(tables, thresholds)
    end = c[(c["source"] == "Table 1") & (c["timepoint"] == "visit4")].set_index("scheme")[
        "category"
    ]
    assert end["nt_probnp"] == "at_or_above_rule_out"  # 125 is not below 125
    assert end["lvef_category"] == "HFpEF"
    moved = copy.deepcopy(thresholds)
    moved["nt_probnp"]["rule_out_below"] = 126
    moved["lvef"]["preserved_min"] = 60
    moved["lvef"]["mildly_reduced_max"] = 59
    end = classifications(tables, moved)
    end = end[(end["source"] == "Table 1") & (end["timepoint"] == "visit4")].set_index("scheme")[
        "category"
    ]
    assert end["nt_probnp"] == "below_rule_out"
    assert end["lvef_category"] == "HFmrEF"


def test_blood_pressure_pairs_systolic_with_diastolic(tables, thresholds):
    c = classifications(tables, thresholds)
    bp = c[c["scheme"] == "blood_pressure"]
    m = tables["measurements"]
    assert len(bp) == len(m[m["parameter"] == "sbp"])
    assert bp["value"].str.fullmatch(r"\d+/\d+").all()


def test_hfimpef_and_remodelling_against_first_visit(tables, thresholds):
    r = remodelling(tables, thresholds)
    t1 = r[r["source"] == "Table 1"].set_index("timepoint")
    # visit3: LVEF rose by 10 points but stays <= 40, so not HFimpEF; visit4 is.
    assert not t1.loc["visit3", "hfimpef"]
    assert t1.loc["visit3", "lvef_rise_met"]
    assert t1.loc["visit4", "hfimpef"]
    assert t1.loc["visit4", "reverse_remodelling"]
    stricter = copy.deepcopy(thresholds)
    stricter["reverse_remodelling"]["lvef_rise_min_points"] = 40
    t1 = remodelling(tables, stricter)
    assert not t1[(t1["source"] == "Table 1") & (t1["timepoint"] == "visit4")][
        "reverse_remodelling"
    ].iloc[0]


def test_remodelling_without_volumes_is_not_assessable(tables, thresholds):
    r = remodelling(tables, thresholds)
    no_esv = r[r["lv_esv"].isna()]
    assert len(no_esv) > 0
    assert no_esv["reverse_remodelling"].isna().all()


def test_metrics_are_deterministic(tables, thresholds):
    first = {k: to_csv(v) for k, v in derive_metrics(tables, thresholds).items()}
    second = {k: to_csv(v) for k, v in derive_metrics(tables, thresholds).items()}
    assert first == second
