"""formulas.csv: identities as data, unit-checked by pint, giving the audit's checks and metrics."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from caserepro import formulas
from caserepro.audit import run_audit, write_audit
from caserepro.validate import load_raw
from conftest import RAW_DIR


def _row(expression: str, check: str = "x", scope: str = "examination") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "check": check,
                "expression": expression,
                "scope": scope,
                "soft": "false",
                "citation": None,
                "label": "a test",
                "explanation": "a test formula",
            }
        ]
    )


def test_units_supply_the_factors_so_none_is_typed(tables):
    loaded = {f.check: f for f in formulas.load(tables["formulas"], tables["dictionary"])}
    assert loaded["co_from_sv_hr"].expected.factor == 0.001  # mL x bpm -> L/min
    assert loaded["ef_from_volumes"].expected.factor == 100.0  # a ratio -> %
    assert [s.factor for s in loaded["bsa_sv_vs_co"].sides] == [1.0, 1.0, 1.0]
    ((check, side),) = formulas.implied_by(tuple(loaded.values()), "heart_rate")
    assert (check, side.text, side.factor) == (
        "co_from_sv_hr",
        "cardiac_output / stroke_volume",
        1000.0,
    )
    assert "1000" not in (RAW_DIR / "formulas.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cardiac_output = stroke_volume / heart_rate", r"not in the quantity's unit l/min"),
        ("cardiac_output = stroke_volume + heart_rate", "terms must share one unit"),
        ("lvef = 100 + lv_edv", "terms must share one unit"),
        ("lvef = (lv_edv - lv_esv) / lv_edvv", "lv_edvv not in the data dictionary"),
        ("lvef = lv_edv ** 2", r"only \+ - \* / are allowed"),
        ("lv_edv - lv_esv = stroke_volume", "must be one parameter"),
        ("lvef", "at least two sides"),
    ],
)
def test_a_bad_formula_is_refused_naming_its_row(tables, expression, message):
    with pytest.raises(formulas.FormulaError, match=message) as error:
        formulas.load(_row(expression, check="bad_row"), tables["dictionary"])
    assert "formulas.csv line 2 (check 'bad_row')" in str(error.value)


def _copy_with(tmp_path, formula_rows: list[str] = (), measurement_rows: list[str] = ()):
    """A copy of the raw data with rows appended to formulas.csv and measurements.csv."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    for name, rows in (("formulas.csv", formula_rows), ("measurements.csv", measurement_rows)):
        with open(raw / name, "a", encoding="utf-8") as file:
            file.writelines(f"{row}\n" for row in rows)
    return load_raw(raw)


def test_a_new_identity_is_one_row_of_data_and_no_code(tmp_path, tables, config):
    before = run_audit(tables, config).checks
    row = (
        "ci_from_co_bsa,cardiac_index = cardiac_output / bsa,examination,false,,"
        "CI from CO and BSA,The printed cardiac index against CO / BSA implied at the same scan"
    )
    after = run_audit(_copy_with(tmp_path, [row]), config).checks
    new = after[after["check"] == "ci_from_co_bsa"]
    assert "ci_from_co_bsa" not in set(before["check"])
    # One check per examination that prints CI with CO (bsa implied by SV/SVI and CO/CI).
    m = tables["measurements"].fillna({"method": ""})
    exam = ["case_id", "timepoint", "modality", "method", "source"]
    both = m[m["parameter"].isin(["cardiac_index", "cardiac_output"])].groupby(exam).size() == 2
    assert len(new) == both.sum() == 4 and set(new["parameter"]) == {"cardiac_index"}
    assert set(new["verdict"]) == {"consistent"}
    assert new["detail"].str.contains("bsa implied").all()
    pd.testing.assert_frame_equal(
        after[after["check"] != "ci_from_co_bsa"].reset_index(drop=True), before
    )


def test_cardiac_output_is_checked_against_sv_and_hr_of_one_examination(tmp_path, config):
    visit = "LAT2026-01,visit2,echo,,{},{},,{},Test examination,"
    rows = [
        visit.format("stroke_volume", "55.0", "mL"),
        visit.format("heart_rate", "70", "bpm"),
        visit.format("cardiac_output", "5.0", "L/min"),
    ]
    checks = run_audit(_copy_with(tmp_path, measurement_rows=rows), config).checks
    (co,) = checks[(checks["check"] == "co_from_sv_hr")].itertuples()
    assert (co.source, co.timepoint, co.reported, co.verdict) == (
        "Test examination",
        "visit2",
        "5.0",
        "inconsistent",
    )
    # 54.95-55.05 mL x 69.5-70.5 bpm = 3.819-3.881 L/min
    assert (co.expected_low, co.expected_high) == (3.819, 3.881)


def test_each_check_is_named_in_one_place(tables, config, tmp_path):
    names = formulas.check_names(tables)
    assert names["check"].is_unique
    emitted = set(run_audit(tables, config).checks["check"])
    assert emitted <= set(names["check"])
    assert set(tables["formulas"]["check"]).isdisjoint(tables["checks"]["check"])
    twice = dict(tables, checks=pd.concat([tables["checks"], tables["formulas"].iloc[:1]]))
    with pytest.raises(formulas.FormulaError, match="ef_from_volumes named in both"):
        formulas.check_names(twice)
    unnamed = dict(tables, checks=tables["checks"][tables["checks"]["check"] != "same_month_value"])
    with pytest.raises(formulas.FormulaError, match="check same_month_value has no label"):
        run_audit(unnamed, config)
    written = tmp_path / "consistency.csv"
    with pytest.raises(formulas.FormulaError, match="check same_month_value has no label"):
        write_audit(unnamed, config, written)  # found after the last part: no file is left
    assert list(tmp_path.iterdir()) == []


KHO = RAW_DIR.parents[1] / "examples" / "kho2021" / "raw"


def _constants(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"constant": c, "value": v, "unit": u, "citation": None, "description": "a test"}
            for c, v, u in rows
        ]
    )


HH = "ph = pk_bicarbonate + log10(bicarbonate / (co2_solubility * pco2))"


def test_a_constant_s_unit_takes_part_in_the_check_and_its_value_in_the_tree():
    kho = load_raw(KHO)
    (hh,) = [
        f
        for f in formulas.load(kho["formulas"], kho["dictionary"], kho["constants"])
        if f.check == "ph_from_bicarbonate_and_pco2"
    ]
    assert hh.constants == {"pk_bicarbonate": 6.1, "co2_solubility": 0.0307}
    assert hh.parameters == ["bicarbonate", "pco2", "ph"]
    assert hh.expected.names == ["bicarbonate", "pco2"]  # the constants are numbers in the tree
    assert hh.expected.factor == 1.0
    assert "0.0307" not in (KHO / "formulas.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("constants", "message"),
    [
        # mmol/L per kPa against PCO2 in mmHg: the logarithm's argument would be 7.5, not 1
        (
            (("pk_bicarbonate", "6.1", "pH"), ("co2_solubility", "0.23", "mmol/L/kPa")),
            "pure number",
        ),
        ((("pk_bicarbonate", "6.1", "mmHg"), ("co2_solubility", "0.0307", "mmol/L/mmHg")), "share"),
        ((("pk_bicarbonate", "6.1", "pH"),), "co2_solubility not in the data dictionary"),
    ],
)
def test_a_constant_in_the_wrong_unit_is_refused_naming_the_row(constants, message):
    kho = load_raw(KHO)
    with pytest.raises(formulas.FormulaError, match=message) as error:
        formulas.load(_row(HH, check="hh"), kho["dictionary"], _constants(*constants))
    assert "formulas.csv line 2 (check 'hh')" in str(error.value)


def test_a_constant_named_like_a_parameter_is_refused(tables):
    with pytest.raises(formulas.FormulaError, match="constants.csv line 2: 'lvef' is also"):
        formulas.load(tables["formulas"], tables["dictionary"], _constants(("lvef", "1", "%")))
