"""Synthetic cohorts: seeded, shaped like the paper's case, plausible, marked synthetic, and valid."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from caserepro.audit import run_audit
from caserepro.paths import RAW_TABLES, raw_file
from caserepro.synthetic import (
    CODEBOOK,
    PREFIX,
    format_fixed,
    marker,
    synthetic_cohort,
    write_cohort,
)
from caserepro.validate import load_raw
from conftest import RAW_DIR, copy_repo, run_snakemake

SEED = 11


@pytest.fixture(scope="session")
def thresholds(config) -> dict:
    """The thresholds the paper's claims cite (config.yaml as shipped)."""
    return config["thresholds"]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, tables, thresholds):
    folder = tmp_path_factory.mktemp("cohort")
    write_cohort(
        synthetic_cohort(tables, 5, SEED, thresholds, inconsistencies=3), folder, RAW_DIR, SEED
    )
    return folder


def digest(folder) -> dict[str, str]:
    return {t: hashlib.sha256(raw_file(folder, t).read_bytes()).hexdigest() for t in RAW_TABLES}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(
    tables, thresholds, tmp_path, cohort
):
    write_cohort(
        synthetic_cohort(tables, 5, SEED, thresholds, inconsistencies=3),
        tmp_path / "again",
        RAW_DIR,
        SEED,
    )
    write_cohort(
        synthetic_cohort(tables, 5, SEED + 1, thresholds, inconsistencies=3),
        tmp_path / "other",
        RAW_DIR,
        SEED + 1,
    )
    assert digest(tmp_path / "again") == digest(cohort)
    assert digest(tmp_path / "other")["measurements"] != digest(cohort)["measurements"]


def test_cohort_passes_the_pipeline_validation(cohort):
    validated = load_raw(cohort)
    assert validated["cases"]["case_id"].tolist() == [f"{PREFIX}{i:06d}" for i in range(1, 6)]


def test_every_case_has_the_template_cases_shape(cohort, tables):
    validated = load_raw(cohort)
    for table in ("timepoints", "infusions", "measurements", "claims"):
        per_case = validated[table].groupby("case_id").size()
        assert (per_case == len(tables[table])).all(), table
    for table in CODEBOOK:
        assert raw_file(cohort, table).read_bytes() == raw_file(RAW_DIR, table).read_bytes()


def test_every_case_row_is_marked_synthetic(cohort):
    validated = load_raw(cohort)
    for table in ("cases", "timepoints", "infusions", "measurements", "claims"):
        assert validated[table]["case_id"].str.startswith(PREFIX).all(), table
    assert (validated["cases"]["source"] == marker(SEED)).all()
    assert validated["measurements"]["note"].str.startswith(marker(SEED)).all()
    assert "SYNTHETIC" in (cohort / "README.md").read_text()


def test_volumes_ef_and_stroke_volume_agree_within_printed_rounding(cohort):
    m = load_raw(cohort)["measurements"]
    m = m[m["source"].isin(["Table 1", "Table 2"])]
    wide = m.pivot_table(
        index=["case_id", "timepoint", "modality", "method"],
        columns="parameter",
        values="value_num",
        dropna=False,
    ).dropna(subset=["lv_edv", "lv_esv", "lvef"])
    ef = (wide["lv_edv"] - wide["lv_esv"]) / wide["lv_edv"] * 100
    assert len(wide) > 0
    assert ((ef - wide["lvef"]).abs() < 1.5).all()
    mri = wide.dropna(subset=["stroke_volume"])
    assert ((mri["lv_edv"] - mri["lv_esv"] - mri["stroke_volume"]).abs() < 1.0).all()


def test_values_stay_inside_the_dictionarys_plausible_range(tmp_path, tables, thresholds):
    folder = tmp_path / "big"
    write_cohort(synthetic_cohort(tables, 300, SEED, thresholds), folder, RAW_DIR, SEED)
    m = load_raw(folder)["measurements"].merge(tables["dictionary"], on="parameter")
    assert m["value_num"].between(m["min"], m["max"]).all()


def test_restated_values_agree_unless_injected(cohort):
    m = load_raw(cohort)["measurements"]
    keys = ["case_id", "timepoint", "modality", "method", "parameter"]
    injected = m["note"].str.contains("injected inconsistency")
    assert injected.sum() == 3
    spread = m[~injected].fillna({"method": ""}).groupby(keys)["value_num"].nunique()
    assert (spread == 1).all()
    # Each injected row disagrees with the value its case's other sources state.
    clean = m[~injected].fillna({"method": ""}).groupby(keys)["value_num"].first()
    hits = m[injected].fillna({"method": ""}).set_index(keys)["value_num"]
    assert (clean.reindex(hits.index) != hits).all()


def test_refuses_to_write_into_the_template_folder(tables, thresholds):
    with pytest.raises(ValueError, match="template folder"):
        write_cohort(synthetic_cohort(tables, 1, SEED, thresholds), RAW_DIR, RAW_DIR, SEED)


def test_format_fixed_prints_each_value_with_its_own_decimals():
    printed = format_fixed(np.array([12567.0, 264.0, 38.644, -0.5, 3.0]), np.array([0, 1, 2, 1, 2]))
    assert printed.tolist() == ["12567", "264.0", "38.64", "-0.5", "3.00"]


def test_range_claims_state_the_synthetic_values_range(cohort):
    validated = load_raw(cohort)
    claims = validated["claims"]
    ranges = claims[claims["kind"] == "range"].iloc[0]
    m = validated["measurements"]
    stated = m[
        (m["case_id"] == ranges["case_id"])
        & (m["timepoint"] == ranges["timepoint"])
        & (m["parameter"] == ranges["parameter"])
        & (m["modality"] == ranges["modality"])
    ]["value_num"]
    assert float(ranges["stated_low"]) == stated.min()
    assert float(ranges["stated_high"]) == stated.max()


def test_synthetic_cohort_is_a_dict_of_every_raw_table(tables, thresholds):
    out = synthetic_cohort(tables, 2, SEED, thresholds)
    assert list(out) == list(RAW_TABLES)
    assert all(isinstance(frame, pd.DataFrame) for frame in out.values())


def _job_count(output: str) -> int:
    return int(re.search(r"^total\s+(\d+)$", output, re.MULTILINE).group(1))


@pytest.mark.e2e
def test_number_of_jobs_does_not_grow_with_the_number_of_cases(tables, thresholds, tmp_path):
    root = copy_repo(tmp_path / "repo")
    counts = {}
    for cases in (1, 40):
        folder = tmp_path / f"cohort-{cases}"
        write_cohort(synthetic_cohort(tables, cases, SEED, thresholds), folder, RAW_DIR, SEED)
        result = run_snakemake(
            root,
            "-n",
            "--config",
            f"raw_dir={folder}",
            f"results_dir={tmp_path / f'results-{cases}'}",
        )
        counts[cases] = _job_count(result.stdout + result.stderr)
    assert counts[1] == counts[40] > 1


def test_audit_of_a_clean_synthetic_case_finds_every_restated_value_consistent(
    tables, config, tmp_path
):
    """Regression: with no value matching the other MRI method, the 'swapped?' hint used to crash."""
    write_cohort(synthetic_cohort(tables, 1, 1, config["thresholds"]), tmp_path, RAW_DIR, 1)
    checks = run_audit(load_raw(tmp_path), config).checks
    repeated = checks[checks["check"] == "repeated_value"]
    assert len(repeated) > 0
    assert set(repeated["verdict"]) == {"consistent"}


FLAGS = ["minor", "inconsistent"]


def audited(folder, config) -> pd.DataFrame:
    """The audit's checks of a cohort folder, run in-process as the audit rule runs them."""
    return run_audit(load_raw(folder), config).checks


@pytest.mark.parametrize("seed", [1, 2])
def test_a_clean_cohorts_claims_say_what_its_values_show(tables, config, tmp_path, seed):
    """No injected inconsistency, no flag: each claim's direction follows its case's values."""
    write_cohort(synthetic_cohort(tables, 200, seed, config["thresholds"]), tmp_path, RAW_DIR, seed)
    checks = audited(tmp_path, config)
    flagged = checks[checks["verdict"].isin(FLAGS)]
    assert flagged.empty, flagged["detail"].head().tolist()
    claims = load_raw(tmp_path)["claims"]
    assert (claims.groupby("case_id").size() == len(tables["claims"])).all()  # none dropped
    said = claims["statement"].str.partition(": ")[2]
    assert (said == claims["kind"] + " claim on " + claims["parameter"]).all()
    # Both directions occur: the kind was read off the values, not copied.
    kinds = claims.groupby("parameter")["kind"].unique().map(set)
    assert kinds["heart_rate"] == {"above", "below"}


def test_claims_stay_clear_when_values_crowd_the_threshold(tables, config, tmp_path):
    """A threshold at the template's own admission heart rate: many synthetic rates print onto
    it, and each such case's rate is moved just clear of it rather than left 'on the boundary'."""
    config = copy.deepcopy(config)
    claim = tables["claims"].set_index("parameter").loc["heart_rate"]
    m = tables["measurements"]
    at = (m["timepoint"] == claim["timepoint"]) & (m["modality"] == claim["modality"])
    rate = m.loc[at & (m["parameter"] == "heart_rate"), "value_num"].iloc[0]
    group, name = claim["criterion"].split(".")
    config["thresholds"][group][name] = rate
    write_cohort(synthetic_cohort(tables, 200, SEED, config["thresholds"]), tmp_path, RAW_DIR, SEED)
    checks = audited(tmp_path, config)
    above = checks[checks["check"].isin(["claim_above", "claim_below"])]
    assert set(above["verdict"]) == {"consistent"}
    m = load_raw(tmp_path)["measurements"]
    at = (m["timepoint"] == claim["timepoint"]) & (m["modality"] == claim["modality"])
    assert (m.loc[at & (m["parameter"] == "heart_rate"), "value_num"] != rate).all()


def test_every_injected_inconsistency_is_found_and_nothing_else(tables, config, tmp_path):
    """Each injected value is flagged inconsistent, and no case without one is flagged at all."""
    write_cohort(
        synthetic_cohort(tables, 200, SEED, config["thresholds"], inconsistencies=30),
        tmp_path,
        RAW_DIR,
        SEED,
    )
    checks = audited(tmp_path, config)
    m = load_raw(tmp_path)["measurements"]
    injected = m.loc[m["note"].str.contains("injected inconsistency"), "case_id"]
    assert len(injected) == 30
    flagged = checks.loc[checks["verdict"].isin(FLAGS), "case_id"]
    assert set(flagged) == set(injected)
    assert set(injected) <= set(checks.loc[checks["verdict"] == "inconsistent", "case_id"])


def test_a_template_that_builds_on_another_codebook_gives_a_cohort_that_validates(
    tmp_path, tables, thresholds
):
    base = shutil.copytree(RAW_DIR, tmp_path / "base")
    template = shutil.copytree(RAW_DIR, tmp_path / "template")
    for table in ("checks", "formulas", "modalities"):
        raw_file(template, table).unlink()
    raw_file(template, "builds_on").write_text("folder\n../base\n", "utf-8")
    folder = tmp_path / "cohort"
    write_cohort(synthetic_cohort(load_raw(template), 3, SEED, thresholds), folder, template, SEED)
    assert raw_file(folder, "builds_on").read_text("utf-8") == f"folder\n{base.resolve()}\n"
    assert not raw_file(folder, "checks").exists()
    cohort = load_raw(folder)
    assert len(cohort["cases"]) == 3 and len(cohort["checks"]) == len(tables["checks"])
