"""Synthetic cohorts: N made-up cases with the paper's raw tables, to measure how the pipeline scales.

Every synthetic case copies the *shape* of the template case (data/raw: the same timepoints,
measurement rows, sources, infusions and claims) and fills it with values from a small,
seeded physiological model of dilated cardiomyopathy that recovers to a random degree: volumes,
EF, stroke volume, cardiac output and indices follow from one another, so the audit finds them
consistent unless an inconsistency is injected on purpose. A case's prose claims say what its own
values show, as a real report would: a threshold claim is `below` or `above` the template's
criterion (config.yaml `thresholds`) as the case's printed values fall, a change claim is
`increase` or `decrease` as they moved; where the printed values leave it open (a value that
rounds onto the threshold, a change within rounding) the case's value is moved just far enough to
make it clear. So a clean cohort audits with no flag at all, and every flag in a cohort made
with `--inconsistencies K` comes from an injected value. Nothing here is real patient data:
every case_id starts with `SYN-`, the case table's `source` and every measurement's `note` say
`synthetic (seed S)`, and the generator refuses to write into the template folder. The codebook
tables (dictionary, methods, checks, modalities, qualifiers) describe parameters, not patients,
and are copied unchanged so labels, units and ranges keep one home; the template's table layout and
headings are written with a blank case_id, which makes them every case's.

Run: `python -m caserepro.synthetic --cases 1000 --seed 1 --out /tmp/cohort [--inconsistencies 5]`.
"""

from __future__ import annotations

import argparse
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

from caserepro.claims import flatten, restate_word_claims
from caserepro.codebook import base_folders, builds_on_file
from caserepro.intervals import LOWER_BOUNDS, month_span, printed, printed_number
from caserepro.io import write_text
from caserepro.paths import RAW_TABLES, raw_file
from caserepro.patterns import teichholz_dimension
from caserepro.validate import load_raw

PREFIX = "SYN-"
#: Tables copied unchanged from the template: they describe parameters, not patients.
CODEBOOK = ("dictionary", "methods", "checks", "modalities", "qualifiers", "formulas")
#: Layout tables taken from the template with their case_id blank: shared by every case.
SHARED_LAYOUT = ("table_layout", "paper_tables")
#: Model of one synthetic patient's course (generator assumptions, not clinical thresholds).
MODEL = {
    "ef_recovered": 57.0,  # % LVEF reached by a full responder
    "remodelling": 0.4,  # share of EDV lost by a full responder
    "hr_recovered": 72.0,  # bpm at rest for a full responder
    "walk_recovered": 520.0,  # m in six minutes for a full responder
    "qol_gain": 30.0,  # questionnaire points gained by a full responder
    "nt_probnp_recovered": 100.0,  # pg/mL for a full responder
    "mass_regression": 0.15,  # share of LV mass lost by a full responder
    "months_to_recover": 12.0,  # months after the first infusion to reach the end state
    "late_gain": 0.2,  # further progress per recovery period after that (values keep moving)
    "spread": 0.12,  # log-sd of between-patient factors on other parameters
}
#: MRI method conventions relative to the echo volumes (first method is also used for no-method rows).
METHOD_VOLUME_FACTOR = {"endocardial": 1.3, "blood_volume": 1.1}
METHOD_EF_SHIFT = {"endocardial": -2.0, "blood_volume": -1.0}  # below echo: no equal EF by chance
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
#: Parameters a synthetic inconsistency may be injected into (restated in the text of the template).
INJECTABLE = ("lvef", "nt_probnp", "six_minute_walk", "qol_score", "heart_rate", "crp")
#: Each kind of claim that has a direction, with its two directions (up, down).
DIRECTIONS = {
    **dict.fromkeys(("above", "below"), ("above", "below")),
    **dict.fromkeys(("increase", "decrease"), ("increase", "decrease")),
}
#: The repository's config.yaml, whose `thresholds` the claims cite unless --config names another.
CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


def marker(seed: int) -> str:
    """The text that marks every synthetic file."""
    return f"synthetic (seed {seed})"


def _month_number(date: pd.Series) -> pd.Series:
    """Months since year 0 of 'YYYY-MM' dates; a year-only date counts as its January."""
    return month_span(date).lo.astype("int64")


def _format_month(number: np.ndarray, year_only: np.ndarray) -> np.ndarray:
    year = (number // 12).astype(str)
    month = np.char.zfill((number % 12 + 1).astype(str), 2)
    return np.where(year_only, year, np.char.add(np.char.add(year, "-"), month))


def format_fixed(values: np.ndarray, decimals: np.ndarray) -> pd.Series:
    """Numbers printed with a fixed number of decimals each, without a per-row Python loop."""
    decimals = np.asarray(decimals, dtype="int64")
    scale = 10**decimals
    scaled = np.rint(np.asarray(values, dtype="float64") * scale).astype("int64")
    sign = np.where(scaled < 0, "-", "")
    whole = pd.Series(np.abs(scaled) // scale).astype("str")
    frac = pd.Series(np.abs(scaled) % scale).astype("str")
    width = pd.Series(decimals)
    frac = pd.Series([""] * len(frac), dtype="str").where(width == 0, frac)
    for d in np.unique(decimals[decimals > 0]):
        at = width == d
        frac[at] = "." + frac[at].str.zfill(int(d))
    return pd.Series(sign, dtype="str") + whole + frac


def _patients(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per synthetic patient: the latent state the values are computed from."""
    male = rng.random(n) < 0.7
    return pd.DataFrame(
        {
            "sex": np.where(male, "male", "female"),
            "age": rng.integers(18, 76, n),
            "bsa": np.clip(rng.normal(np.where(male, 1.95, 1.75), 0.15), 1.4, 2.5),
            "response": 0.4 + 0.6 * rng.beta(2.0, 2.0, n),  # each responds: changes are clear
            "ef0": rng.uniform(12.0, 35.0, n),
            "edv0": np.clip(rng.lognormal(np.log(220.0), 0.2, n), 160.0, 400.0),  # dilated
            "hr0": np.clip(rng.normal(92.0, 8.0, n), 70.0, 120.0),
            "sbp0": np.clip(rng.normal(115.0, 8.0, n), 90.0, 140.0),
            "pulse_pressure": np.clip(rng.normal(42.0, 6.0, n), 25.0, 60.0),
            "walk0": np.clip(rng.normal(130.0, 40.0, n), 40.0, 300.0),
            "qol0": np.clip(rng.normal(80.0, 8.0, n), 55.0, 105.0),
            "nt0": np.clip(rng.lognormal(np.log(12000.0), 0.5, n), 2000.0, 60000.0),
            "nyha0": rng.integers(3, 5, n),
            "mass0": np.clip(rng.normal(250.0, 30.0, n), 150.0, 400.0),
            "shift": rng.integers(-84, 25, n),  # months relative to the template's calendar
            "birthday": rng.integers(0, 12, n),  # months since the last birthday at admission
        }
    )


def _model_values(long: pd.DataFrame, who: pd.DataFrame, first_method: str) -> pd.Series:
    """The noiseless value of every (case, timepoint, modality, method, parameter) key."""
    p = long["progress"].to_numpy() * who["response"].to_numpy()
    method = long["method"].fillna(first_method).where(long["modality"] == "mri")
    factor = method.map(METHOD_VOLUME_FACTOR).fillna(1.0).to_numpy()
    ef = np.clip(who["ef0"] + (MODEL["ef_recovered"] - who["ef0"]) * p, 5.0, 80.0).to_numpy()
    ef = ef + method.map(METHOD_EF_SHIFT).fillna(0.0).to_numpy()
    edv = who["edv0"].to_numpy() * (1.0 - MODEL["remodelling"] * p) * factor
    esv = edv * (1.0 - ef / 100.0)
    sv = edv - esv
    hr = (who["hr0"] - (who["hr0"] - MODEL["hr_recovered"]) * p).to_numpy()
    co = sv * hr / 1000.0
    bsa = who["bsa"].to_numpy()
    sbp = who["sbp0"].to_numpy() + 8.0 * p
    nt = np.exp(
        np.log(who["nt0"]) + (np.log(MODEL["nt_probnp_recovered"]) - np.log(who["nt0"])) * p
    )
    formulas = {
        "lvef": ef,
        "lv_edv": edv,
        "lv_esv": esv,
        "stroke_volume": sv,
        "cardiac_output": co,
        "stroke_volume_index": sv / bsa,
        "cardiac_index": co / bsa,
        "heart_rate": hr,
        "sbp": sbp,
        "dbp": sbp - who["pulse_pressure"].to_numpy(),
        "six_minute_walk": (who["walk0"] + (MODEL["walk_recovered"] - who["walk0"]) * p).to_numpy(),
        "qol_score": (who["qol0"] - MODEL["qol_gain"] * p).to_numpy(),
        "nt_probnp": nt.to_numpy(),
        "nyha_class": np.maximum(1, who["nyha0"] - np.rint((who["nyha0"] - 1) * p)).to_numpy(),
        "lv_edd": teichholz_dimension(pd.Series(edv)).to_numpy(),
        "lv_esd": teichholz_dimension(pd.Series(esv)).to_numpy(),
        "lv_mass": (who["mass0"] * (1.0 - MODEL["mass_regression"] * p)).to_numpy(),
        "age": (who["age"] + (who["birthday"] + long["since_admission"]) // 12).to_numpy(),
    }
    value = long["template_value"] * long["factor"]
    for parameter, computed in formulas.items():
        at = (long["parameter"] == parameter).to_numpy()
        value[at] = np.asarray(computed, dtype="float64")[at]
    return value


def _of_case(frame: pd.DataFrame, case_id: str) -> pd.DataFrame:
    """The rows of one case, renumbered from 0."""
    return frame[frame["case_id"] == case_id].reset_index(drop=True)


def _first_infusion(timepoints: pd.DataFrame) -> np.ndarray:
    """Which timepoints are the first infusion (month 0)."""
    return timepoints["months_after_first_infusion"].eq(0).fillna(False).to_numpy(dtype=bool)


def _progress(timepoints: pd.DataFrame) -> pd.Series:
    """How far along its recovery each template timepoint is (0 at the first infusion, 1 when done,
    then `late_gain` more per recovery period)."""
    month = _month_number(timepoints["date"])
    start = month[_first_infusion(timepoints)].min()
    raw = (month - start) / MODEL["months_to_recover"]
    return raw.clip(0.0, 1.0) + MODEL["late_gain"] * (raw - 1.0).clip(lower=0.0)


def _labels(
    template: pd.DataFrame, number: np.ndarray, year_only: np.ndarray, rows: np.ndarray
) -> pd.Series:
    """Timepoint labels with the template's printed date replaced by the synthetic one."""
    pattern = re.compile(rf"(?:(?:{'|'.join(MONTHS)}) )?\d{{4}}")
    parts = [pattern.split(label, maxsplit=1) for label in template["label"]]
    prefix = np.array([p[0] for p in parts], dtype=object)[rows]
    suffix = np.array([p[1] if len(p) > 1 else "" for p in parts], dtype=object)[rows]
    has_date = np.array([len(p) > 1 for p in parts])[rows]
    # A label printed with a month name keeps one; a label printed with the year only keeps that.
    with_month = np.array(
        [bool(re.search("|".join(MONTHS), label)) for label in template["label"]]
    )[rows]
    names = np.array(MONTHS, dtype=object)[number % 12]
    years = (number // 12).astype(str).astype(object)
    printed = np.where(year_only | ~with_month, years, names + " " + years)
    return pd.Series(np.where(has_date, prefix + printed + suffix, prefix), dtype="str")


def synthetic_cohort(
    template: dict[str, pd.DataFrame],
    cases: int,
    seed: int,
    thresholds: dict,
    inconsistencies: int = 0,
) -> dict[str, pd.DataFrame]:
    """N synthetic cases shaped like the template's first case, as raw text tables (seeded);
    `thresholds` is config.yaml's section of that name, which the threshold claims cite."""
    rng = np.random.default_rng(seed)
    mark = marker(seed)
    first = template["cases"]["case_id"].iloc[0]
    width = max(6, len(str(cases)))
    ids = pd.Series([f"{PREFIX}{i:0{width}d}" for i in range(1, cases + 1)], dtype="str")
    who = _patients(cases, rng)
    tp = _of_case(template["timepoints"], first)
    tp = tp.assign(progress=_progress(tp))
    timepoints, months = _moved_timepoints(tp, ids, who)
    m = _of_case(template["measurements"], first)
    parameters = pd.Index(sorted(template["dictionary"]["parameter"]))
    spread = rng.lognormal(0.0, MODEL["spread"], (cases, len(parameters)))
    model = _modelled(template, m, tp, who, spread, parameters, months)
    template_claims = _of_case(template["claims"], first)
    dictionary = template["dictionary"].set_index("parameter")
    ranged = m.join(dictionary[["min", "max"]], on="parameter")
    truth, kinds = _settled_claims(
        model.truth, template_claims, ranged, model.key_of_row, flatten(thresholds)
    )
    row = np.tile(np.arange(len(m)), cases)
    case_of_row = np.repeat(np.arange(cases), len(m))
    value = truth[case_of_row, model.key_of_row[row]]
    measurements = _stated(m, ids, row, case_of_row, value, mark)
    # Claims state the true values; an injected inconsistency then contradicts them and the tables.
    claims = _claims(template_claims, kinds, measurements, ids, mark)
    sexes = pd.DataFrame({"case_id": ids, "sex": who["sex"]})
    means = m["qualifier_means"].to_numpy(dtype=object)[row]  # what the codebook says they mean
    claims = restate_word_claims(
        claims, measurements.assign(qualifier_means=means), timepoints, sexes, thresholds
    )
    if inconsistencies:
        _inject(measurements, m, row, value, inconsistencies, rng, dictionary, mark)
    admission = timepoints.groupby("case_id", sort=False)["date"].first().to_numpy()
    dose = spread[:, parameters.get_loc("cell_dose")]
    out = {
        "cases": _cases_table(template, ids, who, admission, rng, mark),
        "timepoints": timepoints,
        "infusions": _infusions(_of_case(template["infusions"], first), ids, dose, mark),
        "measurements": measurements,
        "claims": claims,
        **{t: _shared(template[t]) for t in SHARED_LAYOUT},
        "reference_ranges": pd.DataFrame(
            columns=["case_id", "parameter", "low", "high", "unit", "source"], dtype="str"
        ),
    }
    return {table: out.get(table, template[table]) for table in RAW_TABLES}


def _moved_timepoints(
    tp: pd.DataFrame, ids: pd.Series, who: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """The template's timepoints moved in time per patient, and their month numbers (one row
    per case, one column per timepoint)."""
    cases = len(ids)
    rows = np.tile(np.arange(len(tp)), cases)
    case = np.repeat(np.arange(cases), len(tp))
    year_only = tp["date"].str.len().to_numpy()[rows] == 4
    old = _month_number(tp["date"]).to_numpy()
    number = old[rows] + who["shift"].to_numpy()[case]
    # Year-only dates move by whole years with the first infusion.
    start = old[_first_infusion(tp)].min()
    year_moved = (
        old[rows] // 12 + (start + who["shift"].to_numpy()[case]) // 12 - start // 12
    ) * 12
    number = np.where(year_only, year_moved, number)
    timepoints = pd.DataFrame(
        {
            "case_id": ids.to_numpy()[case],
            "timepoint": tp["timepoint"].to_numpy()[rows],
            "date": _format_month(number, year_only),
            "months_after_first_infusion": tp["months_after_first_infusion"]
            .astype("str")
            .iloc[rows]
            .to_numpy(),
            "label": _labels(tp, number, year_only, rows),
            "source": tp["source"].to_numpy()[rows],
        }
    )
    return timepoints, number.reshape(cases, len(tp))


@dataclass(frozen=True)
class Modelled:
    """The model's true value of each case (row) and measurement key (column), and the key of
    each template measurement row."""

    truth: np.ndarray
    key_of_row: np.ndarray


def _modelled(
    template: dict[str, pd.DataFrame],
    m: pd.DataFrame,
    tp: pd.DataFrame,
    who: pd.DataFrame,
    spread: np.ndarray,
    parameters: pd.Index,
    months: np.ndarray,
) -> Modelled:
    """One value per case and key (timepoint, modality, method, parameter) from the model,
    within the dictionary's plausible range; every source that states a key repeats it."""
    keys = ["timepoint", "modality", "method", "parameter"]
    key_frame = m.assign(method=m["method"].fillna("")).drop_duplicates(keys)[[*keys, "value_num"]]
    key_frame = key_frame.rename(columns={"value_num": "template_value"}).reset_index(drop=True)
    key_frame = key_frame.assign(
        method=key_frame["method"].replace("", np.nan),
        progress=key_frame["timepoint"]
        .map(tp.set_index("timepoint")["progress"])
        .fillna(0.0)
        .to_numpy(),
    )
    cases, k = len(who), len(key_frame)
    long = key_frame.iloc[np.tile(np.arange(k), cases)].reset_index(drop=True)
    case_of_key = np.repeat(np.arange(cases), k)
    long["factor"] = spread[case_of_key, parameters.get_indexer(long["parameter"])]
    # Months from admission (each case's first timepoint) to each key's timepoint, for ages.
    since = months - months[:, :1]
    at_tp = pd.Index(tp["timepoint"]).get_indexer(long["timepoint"])
    long["since_admission"] = since[case_of_key, at_tp]
    first_method = template["methods"]["method"].iloc[0]
    values = _model_values(long, who.iloc[case_of_key].reset_index(drop=True), first_method)
    dictionary = template["dictionary"].set_index("parameter")
    values = values.clip(
        long["parameter"].map(dictionary["min"]), long["parameter"].map(dictionary["max"])
    )
    key_of_row = (
        m.assign(method=m["method"].fillna(""))
        .merge(
            key_frame.assign(key=np.arange(k), method=key_frame["method"].fillna("")),
            on=keys,
            how="left",
        )["key"]
        .to_numpy()
    )
    return Modelled(values.to_numpy().reshape(cases, k), key_of_row)


def _stated(
    m: pd.DataFrame,
    ids: pd.Series,
    row: np.ndarray,
    case_of_row: np.ndarray,
    value: np.ndarray,
    mark: str,
) -> pd.DataFrame:
    """measurements.csv: each template row for every case, its value printed with the
    template's decimals."""
    return pd.DataFrame(
        {
            "case_id": ids.to_numpy()[case_of_row],
            **{c: m[c].to_numpy()[row] for c in ("timepoint", "modality", "method", "parameter")},
            "value": format_fixed(value, m["decimals"].to_numpy()[row]).to_numpy(),
            **{c: m[c].to_numpy()[row] for c in ("qualifier", "unit", "source")},
            "note": mark,
        }
    )


def _cases_table(
    template: dict[str, pd.DataFrame],
    ids: pd.Series,
    who: pd.DataFrame,
    admission: np.ndarray,
    rng: np.random.Generator,
    mark: str,
) -> pd.DataFrame:
    """cases.csv: each patient's sex, age, the template's diagnosis, onset 1-12 months before
    admission (the first timepoint's month) and NYHA class."""
    cases = len(ids)
    return pd.DataFrame(
        {
            "case_id": ids,
            "sex": who["sex"],
            "age_years": who["age"].astype("str"),
            "diagnosis": template["cases"]["diagnosis"].iloc[0],
            "symptom_onset": _format_month(
                _month_number(pd.Series(admission)).to_numpy() - rng.integers(1, 13, cases),
                np.zeros(cases, dtype=bool),
            ),
            "admission": admission,
            "nyha_class_at_admission": who["nyha0"].astype("str"),
            "source": mark,
        }
    )


def _infusions(inf: pd.DataFrame, ids: pd.Series, dose: np.ndarray, mark: str) -> pd.DataFrame:
    """infusions.csv: the template's infusions for every case, its cell numbers times the
    case's spread of the cell dose."""
    rows = np.tile(np.arange(len(inf)), len(ids))
    case = np.repeat(np.arange(len(ids)), len(inf))
    cells = dose[case] * inf["cells_million"].to_numpy()[rows]
    return pd.DataFrame(
        {
            "case_id": ids.to_numpy()[case],
            "infusion": inf["infusion"].astype("str").to_numpy()[rows],
            "timepoint": inf["timepoint"].to_numpy()[rows],
            "cells_million": format_fixed(cells, np.zeros(len(rows), dtype="int64")).to_numpy(),
            "complications": inf["complications"].to_numpy()[rows],
            "complaints": mark,
            "source": inf["source"].to_numpy()[rows],
        }
    )


def _shared(layout: pd.DataFrame) -> pd.DataFrame:
    """A layout table of the template for every synthetic case: its case_id blank."""
    return _to_text(layout).assign(case_id=pd.Series(pd.NA, index=layout.index, dtype="str"))


def _inject(
    measurements: pd.DataFrame,
    m: pd.DataFrame,
    row: np.ndarray,
    value: np.ndarray,
    count: int,
    rng: np.random.Generator,
    dictionary: pd.DataFrame,
    mark: str,
) -> None:
    """Change `count` restated values (text rows, not the paper's tables) by 30 %, in place, noted;
    only values the template states more than once, so that another source contradicts each."""
    keys = ["timepoint", "modality", "method", "parameter"]
    copies = m.fillna({"method": ""}).groupby(keys)["parameter"].transform("size")
    text = ~m["source"].str.startswith("Table") & m["parameter"].isin(INJECTABLE) & (copies > 1)
    candidates = np.flatnonzero(text.to_numpy()[row])
    chosen = np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    factor = np.where(rng.random(len(chosen)) < 0.5, 0.7, 1.3)
    parameter = m["parameter"].to_numpy()[row[chosen]]
    low = dictionary["min"].reindex(parameter).to_numpy()
    high = dictionary["max"].reindex(parameter).to_numpy()
    # 'more than x' holds for every value above x, so only a higher x contradicts the others; a
    # value that would leave the plausible range moves the other way.
    lower_bound = m["qualifier_means"].isin(LOWER_BOUNDS).to_numpy()[row[chosen]]
    factor = np.where(lower_bound | (value[chosen] * 0.7 < low), 1.3, factor)
    factor = np.where(value[chosen] * 1.3 > high, 0.7, factor)
    decimals = m["decimals"].to_numpy()[row[chosen]]
    changed = np.clip(value[chosen] * factor, low, high)
    at = measurements.columns.get_indexer(["value", "note"])
    true_value = measurements["value"].iloc[chosen].to_numpy().astype(object)
    measurements.iloc[chosen, at[1]] = mark + "; injected inconsistency: true value " + true_value
    measurements.iloc[chosen, at[0]] = format_fixed(changed, decimals).to_numpy()


def _claims(
    template: pd.DataFrame,
    kinds: np.ndarray,
    measurements: pd.DataFrame,
    ids: pd.Series,
    mark: str,
) -> pd.DataFrame:
    """The template's claims for every case, of the kinds given (cases x claims); range claims
    state the synthetic values' range."""
    n, c = len(ids), len(template)
    rows = np.tile(np.arange(c), n)
    case = np.repeat(np.arange(n), c)
    claims = template.iloc[rows].reset_index(drop=True).astype("object")
    claims["kind"] = kinds.ravel()
    number = ids.str.slice(len(PREFIX)).to_numpy()[case]
    claims["claim_id"] = (
        "syn" + pd.Series(number, dtype="str") + "_" + claims["claim_id"].astype("str")
    )
    claims["case_id"] = ids.to_numpy()[case]
    claims["statement"] = (
        mark
        + ": "
        + claims["kind"].astype("str")
        + " claim on "
        + claims["parameter"].astype("str")
    )
    keys = ["case_id", "timepoint", "modality", "parameter"]
    ranges = claims["kind"] == "range"
    stated = measurements.merge(claims.loc[ranges, keys].drop_duplicates(), on=keys)
    stated = stated.assign(number=printed_number(stated["value"])).sort_values(
        [*keys, "number"], kind="stable"
    )
    bounds = stated.groupby(keys, sort=False)["value"].agg(["first", "last"])
    found = claims.loc[ranges, keys].merge(bounds, left_on=keys, right_index=True, how="left")
    claims.loc[ranges, "stated_low"] = found["first"].to_numpy()
    claims.loc[ranges, "stated_high"] = found["last"].to_numpy()
    return claims.astype("str")


def _stands_for(
    values: np.ndarray, rows: np.ndarray, m: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Per case: the hull of what its values (cases x `rows` of `m`) stand for once printed
    with each row's decimals and qualifier, as the audit reads them."""
    decimals = np.tile(m["decimals"].to_numpy(dtype="int64")[rows], len(values))
    scale = 10.0**decimals
    shown = pd.Series(np.rint(values.ravel() * scale) / scale)  # the number format_fixed prints
    means = pd.Series(np.tile(m["qualifier_means"].to_numpy(dtype=object)[rows], len(values)))
    iv = printed(shown, pd.Series(decimals), means)
    lo = iv.lo.to_numpy().reshape(values.shape).min(axis=1)
    return lo, iv.hi.to_numpy().reshape(values.shape).max(axis=1)


def _settle(
    truth: np.ndarray,
    rows: np.ndarray,
    key_of_row: np.ndarray,
    m: pd.DataFrame,
    reference: tuple[np.ndarray, np.ndarray, np.ndarray],
    touching_is_clear: bool,
    default_up: bool,
) -> np.ndarray:
    """Whether each case's printed values at `rows` lie above `reference` (lo, hi and centre
    per case) rather than below it. Where they meet it, the case's values move just clear of
    it, the way they were heading (`default_up` if they sit on its centre), or the other way if
    that would leave the dictionary's range (`truth` is changed in place)."""
    values = truth[:, key_of_row[rows]]
    lo, hi = _stands_for(values, rows, m)
    ref_lo, ref_hi, centre = reference
    if touching_is_clear:
        above, below = lo >= ref_hi, hi <= ref_lo
    else:
        above, below = lo > ref_hi, hi < ref_lo
    # Printed with d decimals, v stands for an interval inside [v - 10^-d, v + 10^-d]; the
    # margin keeps a moved value off a rounding boundary (a millionth of the finest printed digit).
    unit = 10.0 ** -m["decimals"].to_numpy(dtype="int64")[rows]
    margin = unit.min() * 1e-6
    shift_up = ref_hi - (values - unit).min(axis=1) + margin
    shift_down = ref_lo - (values + unit).max(axis=1) - margin
    fits_up = (values + shift_up[:, None] <= m["max"].to_numpy()[rows]).all(axis=1)
    fits_down = (values + shift_down[:, None] >= m["min"].to_numpy()[rows]).all(axis=1)
    heading = values.mean(axis=1) - centre
    up = np.where(heading != 0, heading > 0, default_up)
    up = np.where(up, fits_up | ~fits_down, fits_up & ~fits_down)
    shift = np.where(up, np.where(fits_up, shift_up, 0), np.where(fits_down, shift_down, 0))
    unclear = ~(above | below)
    truth[:, np.unique(key_of_row[rows])] += np.where(unclear, shift, 0)[:, None]
    return np.where(unclear, up, above)


def _settled_claims(
    truth: np.ndarray,
    claims: pd.DataFrame,
    m: pd.DataFrame,
    key_of_row: np.ndarray,
    thresholds: dict[str, object],
) -> tuple[np.ndarray, np.ndarray]:
    """The values (cases x keys), moved where the printed ones leave a claim open (see
    `_settle`), and each case's kind of each claim (cases x claims), as its values show it.

    below/above: the side of the criterion's threshold the values at the timepoint lie on;
    increase/decrease: the way they moved since from_timepoint. Other kinds, and claims the
    audit cannot check (no values, no threshold), stay as the template states them. `m`: the
    template's measurements with their parameter's plausible range (min, max).
    """
    truth = truth.copy()
    kinds = np.tile(claims["kind"].to_numpy(dtype=object), (len(truth), 1))
    at = m.set_index(["timepoint", "modality", "parameter"]).index
    for j, claim in enumerate(claims.itertuples(index=False)):
        if claim.kind not in DIRECTIONS:
            continue
        up_word, down_word = DIRECTIONS[claim.kind]
        rows = np.flatnonzero(at.isin([(claim.timepoint, claim.modality, claim.parameter)]))
        if up_word == "above":
            threshold = thresholds.get(claim.criterion)
            if threshold is None or not len(rows):
                continue
            point = np.full(len(truth), float(threshold))
            reference, touching_is_clear = (point, point, point), True
        else:
            before = np.flatnonzero(
                at.isin([(claim.from_timepoint, claim.modality, claim.parameter)])
            )
            if not len(rows) or not len(before):
                continue
            earlier = truth[:, key_of_row[before]]
            reference = (*_stands_for(earlier, before, m), earlier.mean(axis=1))
            touching_is_clear = False
        up = _settle(
            truth, rows, key_of_row, m, reference, touching_is_clear, claim.kind == up_word
        )
        kinds[:, j] = np.where(up, up_word, down_word)
    return truth, kinds


def _to_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text (missing stays missing and is written as an empty cell)."""
    return frame.astype("str")


def write_cohort(
    tables: dict[str, pd.DataFrame], folder: str | Path, template_dir: str | Path, seed: int
) -> None:
    """Write a synthetic cohort's CSV files (codebook copied byte for byte) and a README saying what it is."""
    folder = Path(folder).resolve()
    template_dir = Path(template_dir).resolve()
    if folder == template_dir or template_dir in folder.parents or folder in template_dir.parents:
        raise ValueError(
            f"refusing to write synthetic data into or around the template folder {template_dir}"
        )
    existing = raw_file(folder, "cases")
    if (
        existing.exists()
        and not pd.read_csv(existing, dtype="str")["case_id"].str.startswith(PREFIX).all()
    ):
        raise ValueError(f"{existing} holds non-synthetic cases; refusing to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    options = pacsv.WriteOptions(quoting_style="needed")
    for table, frame in tables.items():
        if table in CODEBOOK:
            if raw_file(template_dir, table).exists():  # (else the template inherits it)
                shutil.copyfile(raw_file(template_dir, table), raw_file(folder, table))
            continue
        text = _to_text(frame)
        arrow = pa.Table.from_pandas(text, preserve_index=False)
        tmp = raw_file(folder, table).with_suffix(".csv.tmp")
        pacsv.write_csv(arrow, tmp, write_options=options)
        tmp.replace(raw_file(folder, table))
    if bases := base_folders(template_dir):  # the template's codebook builds on these
        lines = "".join(f"{base.resolve().as_posix()}\n" for base in bases)
        write_text(builds_on_file(folder), "folder\n" + lines)
    cases = len(tables["cases"])
    write_text(
        folder / "README.md",
        f"# SYNTHETIC cohort — not patient data\n\n{cases} made-up cases, {marker(seed)}, generated by "
        f"`python -m caserepro.synthetic --cases {cases} --seed {seed}` from the shape of "
        f"`{template_dir.name}/`. Every case_id starts with `{PREFIX}`; the codebook files "
        f"({', '.join(f'{t}.csv' for t in CODEBOOK)}) are unchanged copies of the template's.\n",
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: generate a synthetic cohort into a folder outside data/raw."""
    parser = argparse.ArgumentParser(
        prog="python -m caserepro.synthetic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cases", type=int, required=True, help="number of synthetic cases")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same bytes)")
    parser.add_argument("--out", required=True, help="folder to write (not data/raw)")
    parser.add_argument(
        "--template", default="data/raw", help="raw folder whose first case gives the shape"
    )
    parser.add_argument(
        "--config", default=str(CONFIG), help="config.yaml whose thresholds the claims cite"
    )
    parser.add_argument(
        "--inconsistencies", type=int, default=0, help="restated values to perturb by 30%%"
    )
    args = parser.parse_args(argv)
    thresholds = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))["thresholds"]
    template = load_raw(args.template)
    tables = synthetic_cohort(template, args.cases, args.seed, thresholds, args.inconsistencies)
    write_cohort(tables, args.out, args.template, args.seed)
    rows = sum(len(tables[t]) for t in RAW_TABLES if t not in CODEBOOK)
    print(f"wrote {args.cases} synthetic cases ({rows} case rows) to {args.out}")


if __name__ == "__main__":
    main()
