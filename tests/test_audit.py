"""The audit finds the paper's inconsistencies from the data, and its verdicts follow the data."""

from __future__ import annotations

import copy
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from caserepro import claims, formula_checks, formulas, paths
from caserepro.audit import (
    CHECKS,
    CODED_COLUMNS,
    COLUMNS,
    INPUT_COLUMNS,
    PARTS,
    TEXT_COLUMNS,
    VERDICTS,
    AuditReport,
    Grading,
    audit,
    check_ages,
    check_repeated_values,
    known_checks,
    merge_audit_parts,
    run_audit,
    summary_markdown,
    write_audit,
    write_audit_part,
)
from caserepro.paths import AUDIT_JOBS
from caserepro.validate import load_raw
from conftest import RAW_DIR, edit_measurement

#: Columns that identify one check (a verdict's key, stable when a value changes).
KEY = ["check", "case_id", "parameter", "timepoint", "method", "source", "against"]


@pytest.fixture(scope="module")
def checks(tables, config) -> pd.DataFrame:
    return run_audit(tables, config).checks


def verdicts(frame: pd.DataFrame) -> pd.Series:
    return frame.assign(method=frame["method"].fillna("")).set_index(KEY)["verdict"]


def flipped(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The checks whose verdict differs between two audits (same checks on both sides)."""
    a, b = verdicts(before), verdicts(after)
    assert a.index.is_unique and a.index.equals(b.index)
    changed = a != b
    return pd.DataFrame({"before": a[changed], "after": b[changed]})


@pytest.fixture
def perturbed(tmp_path, config):
    """Audit a copy of the raw data with one printed value changed."""

    def run(timepoint: str, parameter: str, source: str, value: str) -> pd.DataFrame:
        raw = tmp_path / "raw"
        shutil.copytree(RAW_DIR, raw)
        edit_measurement(raw, timepoint, parameter, source, value)
        return run_audit(load_raw(raw), config).checks

    return run


def test_output_follows_the_contract(tables, checks):
    assert list(checks.columns) == COLUMNS
    assert set(checks["verdict"]) <= set(VERDICTS)
    assert set(checks["check"]) <= set(known_checks(tables))
    assert set(CHECKS) < set(known_checks(tables))
    assert verdicts(checks).index.is_unique
    assert (checks["detail"].str.len() > 0).all()


def test_table1_ef_contradicts_its_volumes_at_first_and_last_visit(checks):
    ef = checks[(checks["check"] == "ef_from_volumes") & (checks["source"] == "Table 1")]
    bad = ef[ef["verdict"] != "consistent"].set_index("timepoint")
    assert sorted(bad.index) == ["visit1", "visit4"]
    assert (bad["verdict"] == "inconsistent").all()
    assert bad.loc["visit1", "reported"] == "20"
    assert bad.loc["visit1", "expected_low"] < 23.3 < bad.loc["visit1", "expected_high"]
    assert bad.loc["visit4", "expected_low"] < 57.0 < bad.loc["visit4", "expected_high"]


def test_figure5_age_is_too_young_for_2025(checks):
    ages = checks[checks["check"] == "age_vs_dates"].set_index("source")
    assert ages.loc["Figure 5 caption", "verdict"] == "inconsistent"
    assert ages.loc["Figure 5 caption", "expected_low"] > float(
        ages.loc["Figure 5 caption", "reported"]
    )
    assert (ages.drop(index="Figure 5 caption")["verdict"] == "consistent").all()


def test_nt_probnp_at_the_threshold_is_on_the_boundary(checks):
    claim = checks[checks["detail"].str.startswith("[nt_probnp_normalized]")].iloc[0]
    assert claim["verdict"] == "minor"
    assert "boundary" in claim["detail"]


def test_claims_without_a_cited_definition_are_not_checkable(tables, checks):
    claims = tables["claims"]
    undefined = claims[
        claims["kind"].isin(["below", "above", "within"]) & claims["criterion"].isna()
    ]
    rows = checks[checks["check"].str.startswith("claim_")]
    ids = rows["detail"].str.extract(r"^\[(\w+)\]")[0]
    assert set(ids[rows["verdict"] == "not_checkable"]) >= set(undefined["claim_id"])
    assert (
        rows.loc[ids.isin(undefined["claim_id"]), "detail"]
        .str.contains("no cited definition")
        .all()
    )


def test_every_claim_gets_one_check(tables, checks):
    rows = checks[checks["check"].str.startswith("claim_")]
    assert sorted(rows["detail"].str.extract(r"^\[(\w+)\]")[0]) == sorted(
        tables["claims"]["claim_id"]
    )


def test_text_that_repeats_a_table_value_is_checked_against_the_table(checks):
    repeated = checks[checks["check"] == "repeated_value"]
    echo = repeated[
        (repeated["source"] == "Echocardiography (January 2025)")
        & (repeated["parameter"] == "lvef")
    ]
    assert echo.iloc[0]["verdict"] == "inconsistent"
    assert echo.iloc[0]["against"] == "Table 1"
    volumes = repeated[repeated["parameter"].isin(["lv_edv", "lv_esv"])]
    assert (volumes["verdict"] == "consistent").all() and len(volumes) == 2


def test_summary_counts_every_verdict_and_lists_each_flagged_check(tables, config):
    report = run_audit(tables, config)
    text = report.to_markdown()
    counts = report.checks["verdict"].value_counts()
    for verdict, n in counts.items():
        assert f"| {verdict} | {n} |" in text
    assert text.count("\n- **") == int((report.checks["verdict"] != "consistent").sum())


def test_the_audit_written_check_by_check_is_the_whole_table(tables, config, tmp_path):
    """write_audit writes each check's rows as they are made and keeps only what the summary
    reads: the same CSV bytes, summary and counts as the audit's whole table."""
    few = copy.deepcopy(config)
    few["audit"]["summary_max_listed"] = 2
    report = run_audit(tables, few)
    summary, counts = write_audit(tables, few, tmp_path / "consistency.csv")
    assert (tmp_path / "consistency.csv").read_bytes() == report.to_csv()
    assert summary == report.to_markdown()
    assert "more checks that are not consistent are not listed" in summary
    assert counts.to_dict() == report.checks["verdict"].value_counts().to_dict()
    assert counts.sum() == len(report.checks) > counts["consistent"] > 0


def test_the_audit_written_in_parts_is_the_audit_written_whole(tables, config, tmp_path):
    """Each job of `AUDIT_JOBS` written by itself (as the jobs of rule audit_part do), then
    joined in order: the same CSV bytes, summary and counts as `write_audit` in one process;
    the first job's file became the table."""
    few = copy.deepcopy(config)
    few["audit"]["summary_max_listed"] = 2
    whole, whole_counts = write_audit(tables, few, tmp_path / "whole.csv")
    jobs = [job for job in AUDIT_JOBS if job != "all"]
    assert [part for job in jobs for part in AUDIT_JOBS[job]] == list(PARTS)
    lines = [tmp_path / f"{job}.csv" for job in jobs]
    kept = [tmp_path / f"{job}.parquet" for job in jobs]
    for job, lines_file, kept_file in zip(jobs, lines, kept, strict=True):
        write_audit_part(tables, few, job, lines_file, kept_file)
    assert lines[0].read_bytes().startswith(b"check,case_id,parameter,")
    assert all(f.stat().st_size > 0 and not f.read_bytes().startswith(b"check,") for f in lines[1:])
    summary, counts = merge_audit_parts(lines, kept, few, tmp_path / "joined.csv")
    assert (tmp_path / "joined.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert summary == whole
    assert counts.to_dict() == whole_counts.to_dict()
    assert not lines[0].exists() and all(f.exists() for f in lines[1:])
    write_audit_part(tables, few, "all", tmp_path / "all.csv", tmp_path / "all.parquet")
    summary, counts = merge_audit_parts(
        [tmp_path / "all.csv"], [tmp_path / "all.parquet"], few, tmp_path / "one.csv"
    )
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert summary == whole


def test_an_unknown_job_is_refused(tables, config, tmp_path):
    with pytest.raises(ValueError, match="no job of the audit is called 'typo'"):
        write_audit_part(tables, config, "typo", tmp_path / "a.csv", tmp_path / "a.parquet")


def test_the_rows_kept_for_the_summary_are_the_flagged_rows_and_three_columns(checks):
    """`_for_summary` (a take) keeps what the plain `where` would: check, verdict and case on
    every row, the other columns only where the verdict is not consistent."""
    from caserepro.audit import _for_summary

    flagged = checks["verdict"] != "consistent"
    kept = ("check", "verdict", "case_id")
    plain = checks.assign(**{c: checks[c].where(flagged) for c in COLUMNS if c not in kept})
    fast = _for_summary(checks)
    pd.testing.assert_frame_equal(fast, plain)
    assert fast["detail"].notna().sum() == flagged.sum() > 0


def test_audit_is_deterministic(tables, config):
    assert run_audit(tables, config).to_csv() == run_audit(tables, config).to_csv()


def test_changing_table1_visit3_ef_flips_only_its_volume_check(checks, perturbed):
    after = perturbed("visit3", "lvef", "Table 1", "40")
    changes = flipped(checks, after)
    assert list(changes.index.get_level_values("check")) == ["ef_from_volumes"]
    assert changes.iloc[0].tolist() == ["consistent", "inconsistent"]
    assert changes.index[0][KEY.index("timepoint")] == "visit3"


def test_correcting_the_figure5_age_flips_only_the_age_check(checks, perturbed):
    after = perturbed("mri_after", "age", "Figure 5 caption", "25")
    changes = flipped(checks, after)
    assert list(changes.index.get_level_values("check")) == ["age_vs_dates"]
    assert changes.iloc[0].tolist() == ["inconsistent", "consistent"]


def test_a_faster_ecg_makes_the_tachycardia_claim_hold(checks, perturbed):
    after = perturbed("admission", "heart_rate", "Electrocardiogram (ECG)", "105")
    changes = flipped(checks, after)
    assert list(changes.index.get_level_values("check")) == ["claim_above"]
    assert changes.iloc[0].tolist() == ["inconsistent", "consistent"]


def test_echo_text_matching_table1_agrees_with_the_table_but_not_the_volumes(checks, perturbed):
    after = perturbed("visit1", "lvef", "Echocardiography (January 2025)", "20")
    changes = flipped(checks, after)
    # it now also agrees with the admission LVEF of the same month (August 2022)
    assert list(changes.index.get_level_values("check")) == ["repeated_value", "same_month_value"]
    assert changes.iloc[0].tolist() == ["inconsistent", "consistent"]
    assert changes.iloc[1].tolist() == ["minor", "consistent"]
    # 20 is what Table 1 prints, and like Table 1 it still contradicts EDV 210 / ESV 161.
    ef = after[
        (after["check"] == "ef_from_volumes")
        & (after["source"] == "Echocardiography (January 2025)")
    ]
    assert ef.set_index("timepoint").loc["visit1", "verdict"] == "inconsistent"


def test_grading_follows_config(tables, config):
    base = verdicts(audit(tables, config["thresholds"], Grading.from_config(config["audit"])))
    lenient = copy.deepcopy(config["audit"])
    lenient["minor_relative_gap"] = 0.10
    loose = verdicts(audit(tables, config["thresholds"], Grading.from_config(lenient)))
    # Table 1 visit 4: printed 53 against 56.5-57.6 from the volumes, a gap of about 6 % of 53.
    key = ("ef_from_volumes", "LAT2026-01", "lvef", "visit4", "", "Table 1", "lv_edv, lv_esv")
    assert (base[key], loose[key]) == ("inconsistent", "minor")
    strict = copy.deepcopy(config["audit"])
    strict["soft_checks"] = []
    hard_tables = dict(tables, formulas=tables["formulas"].assign(soft="false"))
    hard = verdicts(audit(hard_tables, config["thresholds"], Grading.from_config(strict)))
    hr = hard[hard.index.get_level_values("check") == "hr_implied_vs_visit"]
    assert "inconsistent" in set(hr) and "inconsistent" not in set(base[hr.index])
    same_month = hard[hard.index.get_level_values("check") == "same_month_value"]
    assert "inconsistent" in set(same_month) and "inconsistent" not in set(base[same_month.index])


def test_a_soft_check_that_is_no_check_is_a_config_error(tables, config):
    typo = copy.deepcopy(config)
    typo["audit"]["soft_checks"] = ["hr_implied_vs_vist"]
    with pytest.raises(ValueError, match="hr_implied_vs_vist is not a check of the audit"):
        run_audit(tables, typo)


def test_thresholds_come_from_config(tables, config):
    moved = copy.deepcopy(config["thresholds"])
    moved["heart_rate"]["resting_high"] = 90
    after = verdicts(audit(tables, moved, Grading.from_config(config["audit"])))
    above = after[after.index.get_level_values("check") == "claim_above"]
    assert set(above) == {"consistent"}


@pytest.mark.e2e
def test_pipeline_writes_the_audit_and_metrics(pipeline_run, tables, config):
    written = (pipeline_run / paths.audit_file("results")).read_bytes()
    assert written == run_audit(tables, config).to_csv()
    assert (
        (pipeline_run / paths.audit_summary_file("results"))
        .read_text(encoding="utf-8")
        .startswith("The audit")
    )
    for table in paths.METRIC_TABLES:
        assert (pipeline_run / paths.metrics_file("results", table)).stat().st_size > 0


def test_values_attributed_to_the_other_method_are_flagged_as_swapped(tables, checks):
    m = tables["measurements"]
    text = m[(m["source"] != "Table 2") & (m["parameter"] == "stroke_volume")]["source"].iloc[0]
    rows = checks[
        (checks["check"] == "repeated_value")
        & (checks["source"] == text)
        & (checks["parameter"] == "stroke_volume")
    ]
    assert len(rows) == 2
    assert (rows["verdict"] == "minor").all()
    assert rows["detail"].str.contains("methods swapped").all()


# --- each check alone, and the summary ------------------------------------------------------


def test_each_check_alone_gives_its_rows_of_the_audit(tables, config):
    grading = Grading.from_config(config["audit"])
    whole = audit(tables, config["thresholds"], grading)
    identities = formulas.load(tables["formulas"], tables["dictionary"])
    grading = grading.with_soft(tuple(f.check for f in identities if f.soft))
    alone = [
        *formula_checks.check_formulas(identities, tables, grading),
        check_repeated_values(tables, grading),
        formula_checks.check_same_month(tables, grading),
        check_ages(tables, grading),
        claims.check_claims(tables, config["thresholds"], grading),
    ]
    alone = [part.astype(dict.fromkeys(TEXT_COLUMNS, "str")) for part in alone if len(part)]
    pd.testing.assert_frame_equal(pd.concat(alone, ignore_index=True), whole)


def test_the_audit_reads_only_its_input_columns(tables, config):
    needed = {name: tables[name][columns] for name, columns in INPUT_COLUMNS.items()}
    pd.testing.assert_frame_equal(
        run_audit(needed, config).checks, run_audit(tables, config).checks
    )


def test_the_audit_is_the_same_from_key_columns_read_as_categorical(tables, config):
    coded = dict(tables)
    measurements = tables["measurements"].copy()
    for column in CODED_COLUMNS:  # categories in reverse order, one unused, as Parquet may give
        values = measurements[column]
        categories = [*sorted(values.dropna().unique(), reverse=True), "zz-unused"]
        measurements[column] = pd.Categorical(values, categories=categories)
    coded["measurements"] = measurements
    pd.testing.assert_frame_equal(run_audit(coded, config).checks, run_audit(tables, config).checks)


def test_the_papers_summary_lists_every_flagged_check(tables, config):
    report = run_audit(tables, config)
    flagged = int((report.checks["verdict"] != "consistent").sum())
    assert 0 < flagged <= config["audit"]["summary_max_listed"]
    assert report.to_markdown() == summary_markdown(report.checks)  # as with no limit
    assert "more checks" not in report.to_markdown() and "per kind" not in report.to_markdown()


def _series_checks() -> pd.DataFrame:
    """Six checks of two cases: two inconsistent, one minor, one not checkable, two consistent."""
    rows = [
        ("ef_from_volumes", "C1", "consistent", 20.0, 21.0, "30"),
        ("ef_from_volumes", "C2", "inconsistent", 22.9117, 23.753, "20"),
        ("repeated_value", "C1", "minor", 19.5, 20.5, "21"),
        ("repeated_value", "C2", "consistent", 3.35, 3.45, "3.4"),
        ("claim_below", "C1", "not_checkable", np.nan, np.nan, "125"),
        ("claim_below", "C2", "inconsistent", np.nan, 125.0, "1481"),
    ]
    frame = pd.DataFrame(rows, columns=["check", "case_id", "verdict", "lo", "hi", "reported"])
    return pd.DataFrame(
        {
            "check": frame["check"].astype("str"),
            "case_id": frame["case_id"].astype("str"),
            "parameter": pd.Series(["lvef", "lvef", "lvef", "lvef", "bnp", "bnp"], dtype="str"),
            "timepoint": pd.Series(["visit1"] * 6, dtype="str"),
            "source": pd.Series(["Table 1"] * 6, dtype="str"),
            "reported": frame["reported"].astype("str"),
            "expected_low": frame["lo"],
            "expected_high": frame["hi"],
            "verdict": frame["verdict"].astype(object),
            "detail": pd.Series([f"detail {i}" for i in range(6)], dtype="str"),
            "method": pd.Series([np.nan] * 6, dtype=object),
            "against": pd.Series(["x"] * 6, dtype="str"),
        }
    )


def test_a_long_summary_lists_the_worst_then_counts_the_rest_per_check_and_verdict():
    checks = _series_checks()
    text = AuditReport(checks, max_listed=2).to_markdown()
    listed = [line for line in text.splitlines() if line.startswith("- **")]
    assert listed == [
        "- **inconsistent** `ef_from_volumes` lvef (C2, visit1, Table 1): reported 20 vs "
        "expected [22.9117, 23.753]. detail 1",
        "- **inconsistent** `claim_below` bnp (C2, visit1, Table 1): reported 1481 vs "
        "expected < 125. detail 5",
    ]
    assert "\n2 more checks that are not consistent are not listed here" in text
    assert "`consistency.csv` lists every check." in text
    table = text[text.index("| Check |") : text.index("\n\nChecks that are not")].splitlines()
    assert table == [
        "| Check | consistent | minor | inconsistent | not_checkable |",
        "|---|---|---|---|---|",
        "| `ef_from_volumes` | 1 | 0 | 1 | 0 |",
        "| `repeated_value` | 1 | 1 | 0 | 0 |",
        "| `claim_below` | 0 | 0 | 1 | 1 |",
    ]
    assert text.startswith("The audit ran 6 checks.\n\n| Verdict | Checks |")
    assert "| inconsistent | 2 |" in text and "| minor | 1 |" in text


def test_a_summary_within_the_limit_or_of_one_case_has_no_table_per_check():
    checks = _series_checks()
    assert AuditReport(checks, max_listed=4).to_markdown() == summary_markdown(checks)
    assert "more checks" not in summary_markdown(checks, 4)
    one_case = checks.assign(case_id=pd.Series(["C1"] * 6, dtype="str"))
    text = summary_markdown(one_case, 0)
    assert "| Check |" not in text and "- **" not in text
    assert "4 more checks that are not consistent are not listed here" in text


def test_a_summary_lists_details_held_in_several_chunks_in_table_order():
    checks = _series_checks()
    chunks = pa.chunked_array([[f"detail {i}" for i in range(3)], [], ["d3", "d4", "d5"]])
    checks = checks.assign(detail=pd.Series(pd.array(chunks, dtype="str")))
    listed = [line for line in summary_markdown(checks).splitlines() if line.startswith("- **")]
    assert [line.rsplit(". ", 1)[-1] for line in listed] == ["detail 1", "d5", "detail 2", "d4"]
