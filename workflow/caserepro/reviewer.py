"""Reviewer checks: claims in words against cited bands, and patterns a reviewer looks for.

Two entries, each returning rows with the columns of results/audit/consistency.csv
(`caserepro.audit.COLUMNS`), plain pandas, independent of the audit engine:

- `band_claims`: a claim (claims.csv, kind `within`) whose criterion names a band `group.band` of
  config `thresholds` ("normal", "moderate", "class_i"; `below_<band>` / `above_<band>` are the
  values below / above a band) is checked value by value, interval-aware: a printed value whose
  rounding interval lies in the band is `consistent`, one outside it `inconsistent`, one that
  straddles an edge `minor`; the claim takes its worst value. Bands may be sex-specific (the case
  table's sex) or per body-surface area (the BSA the paper implies at the scan, SV/SVI and CO/CI).
  A claim whose criterion is `duration.<unit>` states a duration (stated_low..stated_high units)
  and is checked against the span of its two timepoints' dates (`claim_duration`, soft).
- `reviewer_checks` (`caserepro.patterns`): soft patterns, graded `minor` at most:
  `repeated_value_set` (the same values printed for timepoints far apart),
  `same_value_across_modalities` (an echo value equal to the MRI value of the same period),
  `teichholz_edv` / `teichholz_esv` / `teichholz_ef`
  (echo volumes and EF against the Teichholz volumes from the printed dimensions, with the
  fractional shortening), `dcm_criteria` (the introduction's DCM criteria at each timepoint).

`with_reviewer_checks` merges both into an audit table (band rows replace the engine's rows of
the same claims in place; the other rows are appended). `claims_in_words` is the manuscript's
"claims in words" table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from caserepro import patterns
from caserepro.intervals import Interval, month_span, printed

#: The columns of results/audit/consistency.csv (as `caserepro.audit.COLUMNS`).
COLUMNS = [
    *("check", "case_id", "parameter", "timepoint", "source", "reported"),
    *("expected_low", "expected_high", "verdict", "detail", "method", "against"),
]
#: Verdicts from best to worst (a claim takes the worst of its values); index = severity.
VERDICTS = ("consistent", "minor", "inconsistent")
#: The sexes a band may be split by (cases.csv `sex`).
SEXES = ("male", "female")
#: Checks this module emits (each has a row in data/raw/checks.csv).
CHECKS = (
    "claim_duration",
    "repeated_value_set",
    "same_value_across_modalities",
    "teichholz_edv",
    "teichholz_esv",
    "teichholz_lvef",
    "dcm_criteria",
)
#: Decimals of expected_low / expected_high in the output (as `caserepro.audit.ROUND`).
ROUND = 4


def _empty() -> pd.DataFrame:
    """No rows, the audit's columns."""
    return pd.DataFrame(
        {c: pd.Series(dtype="float64" if "expected" in c else "str") for c in COLUMNS}
    )


def _frame(rows: dict[str, object], n: int) -> pd.DataFrame:
    """Rows with exactly the audit's columns (text as str, expected_* as float)."""
    out = {}
    for c in COLUMNS:
        given = rows.get(c)
        cells = (
            np.full(n, np.nan, dtype=object) if given is None else np.asarray(given, dtype=object)
        )
        out[c] = pd.Series(cells).astype("float64" if "expected" in c else "str")
        if "expected" in c:  # as the engine writes them (caserepro.audit.ROUND decimals)
            out[c] = out[c].round(ROUND)
    return pd.DataFrame(out)


def fmt(values: pd.Series) -> pd.Series:
    """Numbers for a detail text: up to four decimals, no trailing zeros ('inf' for infinity);
    each distinct number is formatted once."""
    codes, distinct = pd.factorize(np.round(np.asarray(values, dtype="float64"), ROUND))
    words = [f"{v:.4f}".rstrip("0").rstrip(".") if np.isfinite(v) else str(v) for v in distinct]
    texts = np.append(np.array(words, dtype=object), "nan")[codes]
    return pd.Series(texts, index=values.index, dtype="str")


def measured(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements with the interval each printed value stands for (`lo`, `hi`)."""
    m = tables["measurements"]
    coded = [c for c in m.columns if isinstance(m[c].dtype, pd.CategoricalDtype)]
    m = m.assign(**{c: m[c].astype("object").astype("str") for c in coded})
    iv = printed(m["value_num"], m["decimals"], m["qualifier"])
    return m.assign(lo=iv.lo.to_numpy(), hi=iv.hi.to_numpy())


def _worst(verdicts: pd.Series, by: pd.Series) -> pd.Series:
    """The worst verdict per group (by severity in VERDICTS)."""
    severity = verdicts.map({v: i for i, v in enumerate(VERDICTS)})
    return severity.groupby(by.to_numpy()).max().map(dict(enumerate(VERDICTS)))


# --- bands: what a criterion `group.band` means for a parameter and a sex --------------------


def _range_of(spec: object, sd_multiple: float) -> tuple[float, float]:
    """[low, below) of a band spec ([low, below] or {mean, sd}); null ends are unbounded."""
    if isinstance(spec, dict):
        half = sd_multiple * float(spec["sd"])
        return float(spec["mean"]) - half, float(spec["mean"]) + half
    low, below = spec  # type: ignore[misc]
    return (-np.inf if low is None else float(low)), (np.inf if below is None else float(below))


def band_table(thresholds: dict) -> pd.DataFrame:
    """Every band of every band group, per parameter and sex: group, band, parameter, sex, low,
    below, per_bsa (the indexed parameter whose range is scaled by the implied BSA), citation."""
    rows = []
    for group, spec in thresholds.items():
        if not isinstance(spec, dict) or "bands" not in spec:
            continue
        k = float(spec.get("sd_multiple", 2))
        for band, parameters in spec["bands"].items():
            for parameter, value in parameters.items():
                for sex in SEXES:
                    one = value.get(sex, value) if isinstance(value, dict) else value
                    per_bsa = one.get("per_bsa") if isinstance(one, dict) else None
                    low, below = (np.nan, np.nan) if per_bsa else _range_of(one, k)
                    split = isinstance(value, dict) and sex in value
                    rows.append((group, band, parameter, sex, low, below, per_bsa, split))
    columns = ["group", "band", "parameter", "sex", "low", "below", "per_bsa", "by_sex"]
    bands = pd.DataFrame(rows, columns=columns)
    return pd.concat([bands, _outside_bands(bands)], ignore_index=True)


def _outside_bands(bands: pd.DataFrame) -> pd.DataFrame:
    """`below_<band>` and `above_<band>`: the values below the band's low end, above its top."""
    ranged = bands[
        bands["per_bsa"].isna() & np.isfinite(bands["low"]) & np.isfinite(bands["below"])
    ]
    under = ranged.assign(band="below_" + ranged["band"], low=-np.inf, below=ranged["low"])
    over = ranged.assign(band="above_" + ranged["band"], low=ranged["below"], below=np.inf)
    scaled = bands[bands["per_bsa"].notna()]
    return pd.concat(
        [
            under,
            over,
            scaled.assign(band="below_" + scaled["band"]),
            scaled.assign(band="above_" + scaled["band"]),
        ],
        ignore_index=True,
    )


def implied_bsa(values: pd.DataFrame) -> pd.DataFrame:
    """Body-surface area the paper implies per case, timepoint and modality: the hull of SV/SVI
    and CO/CI over the methods (columns case_id, timepoint, modality, bsa_lo, bsa_hi)."""
    keys = ["case_id", "timepoint", "modality", "method"]
    wide = values.assign(method=values["method"].fillna("")).pivot_table(
        index=keys, columns="parameter", values=["lo", "hi"], aggfunc={"lo": "min", "hi": "max"}
    )
    parts = []
    for top, bottom in (
        ("stroke_volume", "stroke_volume_index"),
        ("cardiac_output", "cardiac_index"),
    ):
        if ("lo", top) not in wide.columns or ("lo", bottom) not in wide.columns:
            continue
        ratio = Interval(wide[("lo", top)], wide[("hi", top)]) / Interval(
            wide[("lo", bottom)], wide[("hi", bottom)]
        )
        parts.append(pd.DataFrame({"bsa_lo": ratio.lo, "bsa_hi": ratio.hi}).dropna())
    if not parts:
        return pd.DataFrame(columns=["case_id", "timepoint", "modality", "bsa_lo", "bsa_hi"])
    both = pd.concat(parts).reset_index()
    hull = both.groupby(["case_id", "timepoint", "modality"], as_index=False)
    return hull.agg(bsa_lo=("bsa_lo", "min"), bsa_hi=("bsa_hi", "max"))


def _citation(thresholds: dict, group: str) -> str:
    """A group's citation keys as text ('lang2015'; 'a, b'; 'no citation')."""
    cited = (thresholds.get(group) or {}).get("citation")
    if not cited:
        return "no citation"
    return cited if isinstance(cited, str) else ", ".join(cited)


def _resolved_bands(claims: pd.DataFrame, tables: dict, thresholds: dict) -> pd.DataFrame:
    """Band claims with their band's ends for the case's sex: columns side, low, below,
    per_bsa, by_sex, sex (missing where the case table gives none)."""
    bands = band_table(thresholds)
    sex = claims["case_id"].map(tables["cases"].set_index("case_id")["sex"]).astype("object")
    keyed = claims.assign(sex=sex, _sex=sex.where(sex.isin(SEXES), SEXES[0]))
    merged = keyed.merge(
        bands.rename(columns={"sex": "_sex"}), on=["group", "band", "parameter", "_sex"], how="left"
    )
    merged["side"] = np.select(
        [merged["band"].str.startswith("below_"), merged["band"].str.startswith("above_")],
        ["below", "above"],
        "in",
    )
    # A per-BSA band: the indexed parameter's own band (same group, sex), scaled later.
    base = merged["band"].str.replace(r"^(below|above)_", "", regex=True)
    own = bands[bands["band"].isin(base) & bands["per_bsa"].isna()]
    indexed = merged.assign(_base=base).merge(
        own[["group", "band", "parameter", "sex", "low", "below"]].rename(
            columns={
                "band": "_base",
                "parameter": "per_bsa",
                "sex": "_sex",
                "low": "idx_low",
                "below": "idx_below",
            }
        ),
        on=["group", "_base", "per_bsa", "_sex"],
        how="left",
    )
    return indexed.drop(columns=["_sex", "_base"])


def _scaled_ends(c: pd.DataFrame) -> pd.DataFrame:
    """The band's inner ends (certainly inside) and outer ends (possibly inside): the same for
    a plain band; for a per-BSA band, the indexed range times the implied BSA interval."""
    scaled = c["per_bsa"].notna()
    lo, hi = c["bsa_lo"], c["bsa_hi"]
    il, ib = c["idx_low"], c["idx_below"]
    inf = pd.Series(np.inf, index=c.index)
    side = c["side"]
    inner_low = np.select([side == "in", side == "below"], [il * hi, -inf], ib * hi)
    outer_low = np.select([side == "in", side == "below"], [il * lo, -inf], ib * lo)
    inner_below = np.select([side == "in", side == "below"], [ib * lo, il * lo], inf)
    outer_below = np.select([side == "in", side == "below"], [ib * hi, il * hi], inf)
    return c.assign(
        inner_low=np.where(scaled, inner_low, c["low"]),
        outer_low=np.where(scaled, outer_low, c["low"]),
        inner_below=np.where(scaled, inner_below, c["below"]),
        outer_below=np.where(scaled, outer_below, c["below"]),
    )


def _graded_values(c: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One row per claim and value at its timepoint: where the value lies against the band
    (word: in / below / above / on the edge) and its verdict."""
    keys = ["case_id", "timepoint", "modality", "parameter"]
    v = c[["claim_id", *keys, "inner_low", "inner_below", "outer_low", "outer_below"]].merge(
        values[[*keys, "method", "value", "qualifier", "lo", "hi"]], on=keys
    )
    inside = (v["lo"] >= v["inner_low"]) & (v["hi"] <= v["inner_below"])
    below = v["hi"] <= v["outer_low"]
    above = v["lo"] >= v["outer_below"]
    v["word"] = np.select([inside, below, above], ["in", "below", "above"], "on the edge")
    v["verdict"] = np.select([inside, below | above], ["consistent", "inconsistent"], "minor")
    return v.drop_duplicates(["claim_id", "method", "value", "qualifier", "word"])


def _claim_groups(tables: dict, thresholds: dict) -> pd.DataFrame:
    """The claims the reviewer checks (kind `within`, criterion `group.name` of a band group or
    of `duration`), with columns group and band."""
    c = tables["claims"]
    parts = c["criterion"].astype("object").fillna("").str.split(".", n=1, expand=True)
    parts = parts.reindex(columns=[0, 1]).fillna("")
    groups = {g for g, s in thresholds.items() if isinstance(s, dict) and "bands" in s}
    mine = (c["kind"] == "within") & (parts[0].isin(groups) | (parts[0] == "duration"))
    return c[mine.to_numpy()].assign(group=parts[0][mine], band=parts[1][mine])


def handled_claims(tables: dict, thresholds: dict) -> pd.Series:
    """The claim_ids that `band_claims` checks (an engine skips or replaces its own rows)."""
    return _claim_groups(tables, thresholds)["claim_id"].reset_index(drop=True)


def band_claims(tables: dict[str, pd.DataFrame], config: dict) -> pd.DataFrame:
    """Each claim that a value lies in a named band, value by value (module docstring); and
    each stated duration against its timepoints (`claim_duration`)."""
    thresholds = config["thresholds"]
    claims = _claim_groups(tables, thresholds)
    durations = claims[claims["group"] == "duration"]
    claims = claims[claims["group"] != "duration"]
    if claims.empty:
        return pd.concat([_empty(), duration_claims(durations, tables, thresholds)])
    values = measured(tables)
    c = _resolved_bands(claims, tables, thresholds)
    c = c.merge(implied_bsa(values), on=["case_id", "timepoint", "modality"], how="left")
    c = _scaled_ends(c)
    graded = _graded_values(c, values)
    words = graded.assign(
        text=graded["qualifier"].fillna("").map(lambda q: f"{q} " if q else "")
        + graded["value"].astype("str")
        + graded["method"].fillna("").map(lambda m: f" ({m})" if m else "")
        + " "
        + graded["word"]
    )
    per_claim = words.groupby("claim_id", sort=False).agg(
        values_text=("text", "; ".join),
        vmin=("lo", "min"),
        vmax=("hi", "max"),
    )
    per_claim["verdict"] = _worst(graded["verdict"], graded["claim_id"])
    per_claim["reported"] = _reported(graded)
    c = c.join(per_claim, on="claim_id")
    return pd.concat([_band_rows(c, thresholds), duration_claims(durations, tables, thresholds)])


def _reported(graded: pd.DataFrame) -> pd.Series:
    """The claim's values as printed: the lowest and highest ('48-53'), or the one value."""
    number = graded["value"].astype("str")
    order = graded.assign(number=number, key=graded["lo"]).sort_values(
        ["claim_id", "key"], kind="stable"
    )
    first = order.groupby("claim_id", sort=False)["number"].first()
    last = order.groupby("claim_id", sort=False)["number"].last()
    return first.where(first == last, first + "-" + last)


def _band_rows(c: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """The audit rows of band claims: verdict and a detail naming the band, its source, the
    values and where each lies; not_checkable with the reason the paper leaves it open."""
    no_sex = c["by_sex"].fillna(False).astype(bool) & c["sex"].isna()
    no_band = c["low"].isna() & c["per_bsa"].isna()
    no_bsa = c["per_bsa"].notna() & c["bsa_lo"].isna()
    no_value = c["verdict"].isna()
    reason = np.select(
        [no_band, no_sex, no_bsa, no_value],
        [
            "band '"
            + c["band"]
            + "' of thresholds."
            + c["group"]
            + " defines no range for "
            + c["parameter"],
            "the band is sex-specific and the case table gives no sex",
            "the range is per body-surface area, which the paper neither gives nor implies at "
            + c["timepoint"],
            "no value of " + c["parameter"] + " at " + c["timepoint"] + " (" + c["modality"] + ")",
        ],
        "",
    )
    checkable = reason == ""
    cite = c["group"].map(lambda g: _citation(thresholds, g))
    who = np.where(c["by_sex"].fillna(False).astype(bool), " for a " + c["sex"].fillna("?"), "")
    bsa = np.where(
        c["per_bsa"].notna() & c["bsa_lo"].notna(),
        " ("
        + c["per_bsa"].fillna("")
        + " range x implied BSA ["
        + fmt(c["bsa_lo"].fillna(0))
        + ", "
        + fmt(c["bsa_hi"].fillna(0))
        + "] m²)",
        "",
    )
    band = (
        "'"
        + c["band"]
        + "' of thresholds."
        + c["group"]
        + " ("
        + cite
        + ")"
        + who
        + ": ["
        + fmt(c["outer_low"].fillna(np.nan))
        + ", "
        + fmt(c["outer_below"].fillna(np.nan))
        + ")"
        + bsa
    )
    answer = c["verdict"].map(
        {
            "consistent": "yes",
            "minor": "on the boundary: a rounding interval straddles a band edge",
            "inconsistent": "no",
        }
    )
    detail = np.where(
        checkable,
        "values " + c["values_text"].fillna("") + "; " + band + "? " + answer.fillna(""),
        reason + ": not checked",
    )
    n = len(c)
    return _frame(
        {
            "check": pd.Series(["claim_within"] * n),
            "case_id": c["case_id"],
            "parameter": c["parameter"],
            "timepoint": c["timepoint"],
            "source": c["source"],
            "reported": c["reported"].where(checkable, ""),
            "expected_low": c["outer_low"].where(checkable),
            "expected_high": c["outer_below"].where(checkable),
            "verdict": c["verdict"].where(checkable, "not_checkable"),
            "detail": "["
            + c["claim_id"]
            + "] "
            + c["statement"]
            + ": "
            + pd.Series(detail, index=c.index),
            "method": pd.Series([np.nan] * n),
            "against": c["criterion"],
        },
        n,
    )


def _dates(tables: dict) -> pd.DataFrame:
    """Each case's timepoints with the months their date can mean (m_lo, m_hi: [start, end))."""
    t = tables["timepoints"][["case_id", "timepoint", "date"]]
    span = month_span(t["date"])
    return t.assign(m_lo=span.lo.to_numpy(), m_hi=span.hi.to_numpy())


def _months_apart(a_lo: pd.Series, a_hi: pd.Series, b_lo: pd.Series, b_hi: pd.Series) -> pd.Series:
    """The fewest months between two date spans (0 where they overlap)."""
    return np.maximum(0.0, np.maximum(b_lo - a_hi, a_lo - b_hi))


def duration_claims(claims: pd.DataFrame, tables: dict, thresholds: dict) -> pd.DataFrame:
    """A stated duration (stated_low..stated_high units of criterion `duration.<unit>`, as
    printed) against the months between from_timepoint and timepoint; soft (the paper's
    timepoints may not be all it followed), so `minor` at most."""
    if claims.empty:
        return _empty()
    per_unit = claims["band"].map(lambda unit: (thresholds.get("duration") or {}).get(unit))
    stated_lo = printed(pd.to_numeric(claims["stated_low"]), _decimals(claims["stated_low"])).lo
    stated_hi = printed(pd.to_numeric(claims["stated_high"]), _decimals(claims["stated_high"])).hi
    lo, hi = stated_lo * per_unit, stated_hi * per_unit
    d = _dates(tables).set_index(["case_id", "timepoint"])
    a = d.reindex(pd.MultiIndex.from_arrays([claims["case_id"], claims["from_timepoint"]]))
    b = d.reindex(pd.MultiIndex.from_arrays([claims["case_id"], claims["timepoint"]]))
    span_lo = pd.Series(
        np.maximum(0.0, b["m_lo"].to_numpy() - a["m_hi"].to_numpy()), index=claims.index
    )
    span_hi = pd.Series(b["m_hi"].to_numpy() - a["m_lo"].to_numpy(), index=claims.index)
    meets = (span_hi >= lo) & (span_lo <= hi)
    known = per_unit.notna() & span_lo.notna() & span_hi.notna() & lo.notna()
    whole = d.groupby(level="case_id").agg(first=("m_lo", "min"), last=("m_hi", "max"))
    total = (whole["last"] - whole["first"]).reindex(claims["case_id"]).to_numpy()
    detail = (
        "from "
        + claims["from_timepoint"]
        + " ("
        + a["date"].fillna("?").to_numpy()
        + ") to "
        + claims["timepoint"]
        + " ("
        + b["date"].fillna("?").to_numpy()
        + "): "
        + fmt(span_lo.fillna(np.nan))
        + "-"
        + fmt(span_hi.fillna(np.nan))
        + " months; stated "
        + _stated_text(claims)
        + " "
        + claims["band"]
        + " = "
        + fmt(lo.fillna(np.nan))
        + "-"
        + fmt(hi.fillna(np.nan))
        + " months as printed; the case's timepoints span at most "
        + fmt(pd.Series(total, index=claims.index))
        + " months"
    )
    verdict = np.where(known, np.where(meets, "consistent", "minor"), "not_checkable")
    n = len(claims)
    return _frame(
        {
            "check": ["claim_duration"] * n,
            "case_id": claims["case_id"],
            "parameter": claims["parameter"],
            "timepoint": claims["timepoint"],
            "source": claims["source"],
            "reported": _stated_text(claims) + " " + claims["band"],
            "expected_low": span_lo,
            "expected_high": span_hi,
            "verdict": verdict,
            "detail": "[" + claims["claim_id"] + "] " + claims["statement"] + ": " + detail,
            "against": claims["from_timepoint"],
        },
        n,
    )


def _decimals(texts: pd.Series) -> pd.Series:
    """Digits after the decimal point of printed numbers ('2' -> 0, '1.5' -> 1)."""
    after = texts.astype("str").str.partition(".")[2]
    return after.str.len().fillna(0).astype("int64")


def _stated_text(claims: pd.DataFrame) -> pd.Series:
    """A stated value or range as printed ('2', '1-2')."""
    low, high = claims["stated_low"].astype("str"), claims["stated_high"].astype("str")
    return low.where(low == high, low + "-" + high)


# --- patterns a reviewer looks for (soft: `minor` at most): caserepro.patterns ---------------


def reviewer_checks(tables: dict[str, pd.DataFrame], config: dict) -> pd.DataFrame:
    """Every soft pattern (`caserepro.patterns`) on every case, in output order."""
    return patterns.reviewer_checks(tables, config)


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in CHECKS order, then case, parameter, timepoint, source, method, against."""
    rank = rows["check"].map({c: i for i, c in enumerate(CHECKS)})
    keys = ["case_id", "parameter", "timepoint", "source", "method", "against"]
    ordered = rows.assign(_rank=rank).sort_values(
        ["_rank", *keys], kind="stable", na_position="first"
    )
    return ordered.drop(columns="_rank").reset_index(drop=True)[COLUMNS]


def with_reviewer_checks(checks: pd.DataFrame, tables: dict, config: dict) -> pd.DataFrame:
    """An audit table with the band claims' rows in place of the engine's rows of the same
    claims (their detail starts '[claim_id]'), then the duration claims and the patterns."""
    mine = band_claims(tables, config)
    ids = mine["detail"].str.extract(r"^\[([^\]]+)\]", expand=False)
    engine_ids = checks["detail"].str.extract(r"^\[([^\]]+)\]", expand=False)
    replaced = mine[mine["check"] == "claim_within"].set_index(
        ids[mine["check"] == "claim_within"].to_numpy()
    )
    keep = checks.copy()
    at = engine_ids.isin(replaced.index) & (checks["check"] == "claim_within")
    keep.loc[at, COLUMNS] = replaced.loc[engine_ids[at], COLUMNS].to_numpy()
    keep = keep[
        ~(
            engine_ids.isin(ids[mine["check"] != "claim_within"])
            & checks["check"].str.startswith("claim_")
        )
    ]
    added = pd.concat(  # the patterns come sorted, after the claims (CHECKS order)
        [_sorted(mine[mine["check"] != "claim_within"]), reviewer_checks(tables, config)]
    )
    return pd.concat([keep[COLUMNS], added], ignore_index=True)


# --- for synthetic cohorts: word claims restated from the values ----------------------------


def _candidates(claims: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Each band claim once per band its group defines for its parameter (config order; a
    group's only band also as below_/above_ it), numbered by `rank`."""
    bands = band_table(thresholds)
    base = bands[~bands["band"].str.match(r"^(below|above)_")]
    names = base.drop_duplicates(["group", "parameter", "band"])[["group", "parameter", "band"]]
    only = names.groupby(["group", "parameter"])["band"].transform("size") == 1
    sides = [
        names,
        names[only].assign(band="below_" + names["band"]),
        names[only].assign(band="above_" + names["band"]),
    ]
    options = pd.concat(sides, ignore_index=True)
    options["rank"] = np.arange(len(options))
    c = claims.drop(columns="band").merge(options, on=["group", "parameter"])
    return c.assign(claim_id=c["claim_id"] + "|" + c["band"])


def restate_word_claims(
    claims: pd.DataFrame,
    measurements: pd.DataFrame,
    timepoints: pd.DataFrame,
    cases: pd.DataFrame,
    thresholds: dict,
) -> pd.DataFrame:
    """Raw claims (text) whose band and duration say what the case's values show: a band claim
    names the first band that holds all its printed values (no band where none does); a
    duration claim states the whole units between its timepoints (for synthetic cases)."""
    m = measurements.assign(
        value_num=pd.to_numeric(measurements["value"]),
        decimals=_decimals(measurements["value"]),
    )
    tables = {"measurements": m, "timepoints": timepoints, "cases": cases, "claims": claims}
    mine = _claim_groups(tables, thresholds)
    out = claims.copy()
    bands = mine[mine["group"] != "duration"]
    if len(bands):
        values = measured(tables)
        c = _resolved_bands(_candidates(bands, thresholds), tables, thresholds)
        c = c.merge(implied_bsa(values), on=["case_id", "timepoint", "modality"], how="left")
        graded = _graded_values(_scaled_ends(c), values)
        worst = _worst(graded["verdict"], graded["claim_id"])
        c = c.assign(verdict=c["claim_id"].map(worst))
        fits = c[c["verdict"] == "consistent"].sort_values("rank", kind="stable")
        first = fits.assign(original=fits["claim_id"].str.partition("|")[0]).drop_duplicates(
            "original"
        )
        chosen = first.set_index("original")["group"] + "." + first.set_index("original")["band"]
        at = out["claim_id"].isin(bands["claim_id"])
        out.loc[at, "criterion"] = out.loc[at, "claim_id"].map(chosen).to_numpy()
    durations = mine[mine["group"] == "duration"]
    if len(durations):
        rows = duration_claims(durations, tables, thresholds)
        per_unit = durations["band"].map(lambda unit: thresholds["duration"][unit]).to_numpy()
        middle = (rows["expected_low"] + rows["expected_high"]).to_numpy() / 2 / per_unit
        stated = pd.Series(np.maximum(1, np.rint(middle)).astype("int64").astype("str"))
        at = out["claim_id"].isin(durations["claim_id"])
        order = out.loc[at, "claim_id"].map(dict(zip(durations["claim_id"], stated, strict=True)))
        out.loc[at, "stated_low"] = order.to_numpy()
        out.loc[at, "stated_high"] = order.to_numpy()
    return out


# --- for the manuscript: the claims in words, one row each ----------------------------------


def _bound_text(low: pd.Series, high: pd.Series, unit: pd.Series) -> pd.Series:
    """A band's ends for a reader: '30 to < 41 %', '< 10 mg/L', '>= 176 g'."""
    lo, hi = fmt(low.fillna(np.nan)), fmt(high.fillna(np.nan))
    both = lo + " to < " + hi + " " + unit
    return pd.Series(
        np.select(
            [low.isna() | high.isna(), ~np.isfinite(low), ~np.isfinite(high)],
            ["", "< " + hi + " " + unit, ">= " + lo + " " + unit],
            both,
        ),
        index=low.index,
    )


def claims_in_words(audit: pd.DataFrame, tables: dict, config: dict) -> pd.DataFrame:
    """The paper's claims in words and their verdicts, for readers: columns claim, parameter,
    timepoint (the codebook's names), definition (band, its ends and citation keys as
    '[@key]'), values (as printed, with the method's name), verdict."""
    thresholds = config["thresholds"]
    claims = _claim_groups(tables, thresholds)
    ids = audit["detail"].str.extract(r"^\[([^\]]+)\]", expand=False)
    rows = audit[ids.isin(claims["claim_id"]).to_numpy()].assign(claim_id=ids)
    c = claims.merge(rows[["claim_id", "expected_low", "expected_high", "verdict"]], on="claim_id")
    dictionary = tables["dictionary"].set_index("parameter")
    unit = c["parameter"].map(dictionary["printed_unit"].fillna(dictionary["unit"])).fillna("")
    cites = c["group"].map(
        lambda g: "; ".join(
            f"@{k}" for k in _citation(thresholds, g).split(", ") if k != "no citation"
        )
    )
    band = np.where(
        c["group"] == "duration",
        c["stated_low"].astype("str")
        + " "
        + c["band"]
        + " stated; the timepoints are "
        + fmt(c["expected_low"])
        + " to "
        + fmt(c["expected_high"])
        + " months apart",
        "'"
        + c["band"].str.replace("_", " ")
        + "': "
        + _bound_text(c["expected_low"], c["expected_high"], unit),
    )
    definition = band + np.where(cites != "", " [" + cites + "]", "")
    names = tables["timepoints"].set_index(["case_id", "timepoint"])
    label = "name" if "name" in names.columns else "label"
    where = pd.MultiIndex.from_arrays([c["case_id"], c["timepoint"]])
    return pd.DataFrame(
        {
            "claim": c["statement"],
            "parameter": c["parameter"].map(dictionary["label"]).fillna(c["parameter"]),
            "timepoint": names[label].reindex(where).fillna(c["timepoint"]).to_numpy(),
            "definition": definition,
            "values": _values_text(c, tables),
            "verdict": c["verdict"].str.replace("_", " "),
        }
    ).reset_index(drop=True)


def _values_text(c: pd.DataFrame, tables: dict) -> pd.Series:
    """Each claim's printed values at its timepoint ('48 (endocardial volume); 53 (blood
    volume)'; a duration claim: its two timepoints' dates)."""
    values = measured(tables)
    methods = tables["methods"].set_index("method")
    named = methods["name"] if "name" in methods.columns else methods["label"]
    keys = ["case_id", "timepoint", "modality", "parameter"]
    v = c[["claim_id", *keys]].merge(values, on=keys)
    shown = (
        v["qualifier"].fillna("").map(lambda q: f"{q} " if q else "")
        + v["value"].astype("str")
        + v["method"].map(named).fillna("").map(lambda m: f" ({m})" if m else "")
    )
    joined = (
        v.assign(shown=shown)
        .drop_duplicates(["claim_id", "shown"])
        .groupby("claim_id")["shown"]
        .agg("; ".join)
    )
    dates = tables["timepoints"].set_index(["case_id", "timepoint"])["date"]
    span = (
        dates.reindex(pd.MultiIndex.from_arrays([c["case_id"], c["from_timepoint"]]))
        .fillna("?")
        .to_numpy()
        + " to "
        + dates.reindex(pd.MultiIndex.from_arrays([c["case_id"], c["timepoint"]]))
        .fillna("?")
        .to_numpy()
    )
    return pd.Series(np.where(c["group"] == "duration", span, c["claim_id"].map(joined).fillna("")))
