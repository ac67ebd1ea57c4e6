"""Derived metrics follow from the raw numbers and from config thresholds, never from literals."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from caserepro import paths
from caserepro.codes import EXAMINATION
from caserepro.intervals import printed
from caserepro.io import csv_bytes
from caserepro.metrics import (
    CODED_COLUMNS,
    INPUT_COLUMNS,
    change_from_baseline,
    classifications,
    derive_metrics,
    haemodynamics,
    implied,
    measurements_in_time,
    remodelling,
    timepoint_order,
    wide,
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
    first = {k: csv_bytes(v) for k, v in derive_metrics(tables, thresholds).items()}
    second = {k: csv_bytes(v) for k, v in derive_metrics(tables, thresholds).items()}
    assert first == second


def test_metrics_read_only_the_input_columns_and_coded_keys_alike(tables, thresholds):
    """The columns `derive_metrics.py` reads, with the coded columns categorical as it reads them,
    give the same tables as the whole validated tables."""
    expected = {k: csv_bytes(v) for k, v in derive_metrics(tables, thresholds).items()}
    read = {name: tables[name][columns] for name, columns in INPUT_COLUMNS.items()}
    measurements = read["measurements"]
    for column in CODED_COLUMNS:  # categories in file order, as Parquet's dictionary has them
        values = measurements[column]
        in_file_order = values.dropna().unique()
        measurements[column] = pd.Categorical(values, categories=in_file_order)
    derived = derive_metrics(read, thresholds)
    assert {k: csv_bytes(v) for k, v in derived.items()} == expected


# --- Small tables whose every row is known: the steps behind the metrics tables ---


def pivot_wide(measurements: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """`wide` as a plain pivot of the measurements (the reference the fast version must match)."""
    m = measurements[measurements["parameter"].isin(parameters)]
    m = m.assign(method=m["method"].fillna(""))
    interval = printed(m["value_num"], m["decimals"], m["qualifier_means"])
    m = m.assign(low=interval.lo, high=interval.hi)
    fields = {"value_num": "", "decimals": "_decimals", "low": "_low", "high": "_high"}
    pieces = []
    for field, suffix in {**fields, "value": "_printed"}.items():
        piece = m.pivot_table(index=EXAMINATION, columns="parameter", values=field, aggfunc="first")
        piece = piece.reindex(columns=parameters)
        piece.columns = [f"{p}{suffix}" for p in piece.columns]
        pieces.append(piece)
    out = pd.concat(pieces, axis=1).reset_index()
    return out.assign(method=out["method"].replace("", pd.NA))


@pytest.mark.parametrize(
    "parameters",
    [
        ["lv_edv", "lv_esv", "lvef", "stroke_volume"],
        ["stroke_volume", "cardiac_output"],
        ["age"],  # printed everywhere it appears: decimals stay integers
        ["lvef", "no_such_parameter"],
    ],
)
def test_wide_is_the_pivot_of_printed_values(tables, parameters):
    m = tables["measurements"]
    for frame in (m, m.iloc[::3], m.iloc[:0]):
        pd.testing.assert_frame_equal(
            wide(frame, parameters), pivot_wide(frame, parameters), check_exact=True
        )


def small_tables() -> dict[str, pd.DataFrame]:
    """Two cases; timepoint names out of time order; one value at a timepoint not in timepoints."""
    rows = [
        # case, timepoint, modality, method, parameter, value, source
        ("B", "late", "echo", None, "lvef", "50", "Table 1"),
        ("B", "early", "echo", None, "lvef", "30", "Table 1"),
        ("B", "early", "echo", None, "lv_esv", "100", "Table 1"),
        ("B", "late", "echo", None, "lv_esv", "80.5", "Table 1"),
        ("B", "lost", "echo", None, "lvef", "45", "Table 1"),
        ("A", "t1", "mri", "m2", "lvef", "25", "Table 2"),
        ("A", "t1", "mri", "m1", "lvef", "28", "Table 2"),
        ("A", "t2", "mri", "m1", "lvef", "41", "Table 2"),
        ("A", "t1", "clinical", None, "sbp", "125", "Text"),
        ("A", "t1", "clinical", None, "dbp", "85", "Text"),
        ("A", "t2", "clinical", None, "sbp", "118", "Text"),
    ]
    m = pd.DataFrame(
        rows, columns=["case_id", "timepoint", "modality", "method", "parameter", "value", "source"]
    ).astype("str")
    m = m.assign(
        qualifier=pd.Series([None] * len(m), dtype="str"),
        qualifier_means=pd.Series([None] * len(m), dtype="str"),
        value_num=m["value"].astype("float64"),
        decimals=m["value"].str.partition(".")[2].str.len().astype("int64"),
    )
    timepoints = pd.DataFrame(
        {
            "case_id": ["B", "B", "A", "A"],
            "timepoint": ["late", "early", "t2", "t1"],
            "date": ["2021-06", "2020-01", "2020-05", "2020"],
        }
    ).astype("str")
    layout = pd.DataFrame({"source": ["Table 1", "Table 2"]}).astype("str")
    return {"measurements": m, "timepoints": timepoints, "table_layout": layout}


def test_timepoints_rank_by_date_within_each_case_file_order_breaking_ties():
    t = pd.DataFrame(
        {
            "case_id": ["B", "A", "A", "A", "A"],
            "timepoint": ["only", "late", "undated", "first", "same_month"],
            "date": ["2021", "2021-06", None, "2020-01", "2020-01"],
        }
    ).astype("str")
    order = timepoint_order(t)
    assert list(zip(order["case_id"], order["timepoint"], order["rank"], strict=True)) == [
        ("A", "first", 0),
        ("A", "same_month", 1),  # same month as 'first': file order
        ("A", "late", 2),
        ("A", "undated", 3),  # no date: last
        ("B", "only", 0),
    ]
    assert list(order["start_month"][:3]) == [2020 * 12, 2020 * 12, 2021 * 12 + 5]
    assert order["end_month"].iloc[4] - order["start_month"].iloc[4] == 12  # a year: 12 months


def test_measurements_in_time_have_rank_date_and_keys_in_text_order():
    t = small_tables()
    m = measurements_in_time(t)
    assert list(m["case_id"].cat.categories) == ["A", "B"]
    assert list(m["case_id"][:2]) == ["B", "B"]  # rows stay in table order
    # 'early' (2020-01) comes before 'late' (2021-06); 'lost' is not in timepoints.csv.
    assert list(m["rank"][:5]) == [1, 0, 0, 1, -1]
    assert list(m["date"][:5].astype("str").fillna("?")) == [
        "2021-06",
        "2020-01",
        "2020-01",
        "2021-06",
        "?",
    ]
    # Categories in file order (as Parquet's dictionary gives them) come out in text order.
    modality = pd.Categorical(t["measurements"]["modality"], categories=["mri", "echo", "clinical"])
    m = measurements_in_time({**t, "measurements": t["measurements"].assign(modality=modality)})
    assert list(m["modality"].cat.categories) == ["clinical", "echo", "mri"]


def test_change_from_baseline_follows_dates_not_names():
    c = change_from_baseline(small_tables())
    assert list(
        zip(
            c["case_id"],
            c["method"].astype("str").fillna(""),
            c["parameter"],
            c["timepoint"],
            strict=True,
        )
    ) == [
        ("A", "m1", "lvef", "t1"),
        ("A", "m1", "lvef", "t2"),
        ("A", "m2", "lvef", "t1"),
        ("B", "", "lv_esv", "early"),
        ("B", "", "lv_esv", "late"),
        ("B", "", "lvef", "early"),
        ("B", "", "lvef", "late"),  # 'lost' is not in timepoints.csv: left out
    ]
    assert list(c["baseline_timepoint"]) == ["t1", "t1", "t1", "early", "early", "early", "early"]
    assert list(c["change"]) == [0.0, 13.0, 0.0, 0.0, -19.5, 0.0, 20.0]
    assert list(c["date"]) == [
        "2020",
        "2020-05",
        "2020",
        "2020-01",
        "2021-06",
        "2020-01",
        "2021-06",
    ]


def test_classifications_and_remodelling_of_small_tables(thresholds):
    c = classifications(small_tables(), thresholds)
    assert list(
        zip(
            c["timepoint"],
            c["scheme"],
            c["method"].astype("str").fillna(""),
            c["value"],
            strict=True,
        )
    ) == [
        ("t1", "blood_pressure", "", "125/85"),  # t2 has no diastolic value: not classified
        ("t1", "lvef_category", "m1", "28"),
        ("t1", "lvef_category", "m2", "25"),
        ("t2", "lvef_category", "m1", "41"),
        ("lost", "lvef_category", "", "45"),  # case B; an unknown timepoint comes first
        ("early", "lvef_category", "", "30"),
        ("late", "lvef_category", "", "50"),
    ]
    assert list(c["category"])[:2] == ["stage_1", "HFrEF"]
    r = remodelling(small_tables(), thresholds)
    assert list(zip(r["case_id"], r["timepoint"], r["baseline_timepoint"], strict=True)) == [
        ("A", "t2", "t1"),
        ("B", "lost", "early"),
        ("B", "late", "early"),
    ]
    assert list(r["lvef_rise"]) == [13.0, 15.0, 20.0]
    assert list(r["lv_esv_fall_percent"].fillna(-1)) == [-1, -1, 19.5]
    assert list(r["reverse_remodelling"].astype("object").fillna("?")) == ["?", "?", True]


def test_metrics_text_stays_coded_and_writes_as_text(tables, thresholds):
    """The metrics tables keep their text columns categorical (codes and distinct labels); as
    text they are the same tables, so the same CSV bytes."""
    for name, frame in derive_metrics(tables, thresholds).items():
        coded = [c for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
        assert "case_id" in coded, name
        as_text = frame.astype(dict.fromkeys(coded, "str"))
        assert (
            csv_bytes(frame)
            == csv_bytes(as_text)
            == as_text.to_csv(index=False, lineterminator="\n").encode("utf-8")
        ), name
