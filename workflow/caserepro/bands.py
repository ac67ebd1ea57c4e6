"""Bands: what a claim's criterion `group.band` of config `thresholds` means for a parameter.

A band group is `bands: {band: {parameter: spec}}`; a spec is [low, below] (low <= value <
below; null: unbounded), {mean, sd} (mean +/- `sd_multiple` SD), or {per_bsa: parameter} (that
parameter's range in the same band times the body-surface area the paper implies at the scan,
SV/SVI and CO/CI). Any spec may be split {male: ..., female: ...}. `below_<band>` and
`above_<band>` are the values below / above a band. `caserepro.claims` grades values against
the ends resolved here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from caserepro.intervals import Interval

#: The sexes a band may be split by (cases.csv `sex`).
SEXES = ("male", "female")
#: The parameters whose ratios give the body-surface area the paper implies (top / bottom).
BSA_RATIOS = (("stroke_volume", "stroke_volume_index"), ("cardiac_output", "cardiac_index"))
BSA_PARAMETERS = [parameter for pair in BSA_RATIOS for parameter in pair]


def band_groups(thresholds: dict) -> set[str]:
    """The names of the threshold groups that define bands."""
    return {g for g, spec in thresholds.items() if isinstance(spec, dict) and "bands" in spec}


def _range_of(spec: object, sd_multiple: float) -> tuple[float, float]:
    """[low, below) of a band spec ([low, below] or {mean, sd}); null ends are unbounded."""
    if isinstance(spec, dict):
        half = sd_multiple * float(spec["sd"])
        return float(spec["mean"]) - half, float(spec["mean"]) + half
    low, below = spec  # type: ignore[misc]
    return (-np.inf if low is None else float(low)), (np.inf if below is None else float(below))


def band_table(thresholds: dict) -> pd.DataFrame:
    """Every band of every band group, per parameter and sex: group, band, parameter, sex, low,
    below, per_bsa (the indexed parameter whose range is scaled by the implied BSA), by_sex."""
    rows = []
    for group, spec in thresholds.items():
        if group not in band_groups(thresholds):
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
    values = values[values["parameter"].isin(BSA_PARAMETERS)]
    wide = values.assign(method=values["method"].fillna("")).pivot_table(
        index=keys, columns="parameter", values=["lo", "hi"], aggfunc={"lo": "min", "hi": "max"}
    )
    parts = []
    for top, bottom in BSA_RATIOS:
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


def citation(thresholds: dict, group: str) -> str:
    """A group's citation keys as text ('lang2015'; 'a, b'; 'no citation')."""
    cited = (thresholds.get(group) or {}).get("citation")
    if not cited:
        return "no citation"
    return cited if isinstance(cited, str) else ", ".join(cited)


def resolved_bands(claims: pd.DataFrame, cases: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Band claims (columns group, band) with their band's ends for the case's sex: columns
    side, low, below, per_bsa, by_sex, sex (missing where the case table gives none), and for a
    per-BSA band the indexed parameter's own ends idx_low, idx_below."""
    bands = band_table(thresholds)
    sex = claims["case_id"].map(cases.set_index("case_id")["sex"])
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
    own = bands[bands["band"].isin(base.unique()) & bands["per_bsa"].isna()]
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


def scaled_ends(c: pd.DataFrame) -> pd.DataFrame:
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


def reference_range_per_parameter(ranges: pd.DataFrame, dictionary: pd.DataFrame) -> pd.DataFrame:
    """One reference range per case and parameter, the one a claim's `reference_range`
    criterion, a figure's band and the manuscript use: printed in the dictionary's unit, else the
    first in the file. (A table may print a range in two units, PO2 in mmHg and in kPa; every row
    carries its ends in the dictionary's unit as `low_num`, `high_num`.)"""
    units = dict(
        zip(dictionary["parameter"].astype("str"), dictionary["unit"].astype("str"), strict=True)
    )
    own_unit = ranges["unit"].astype("str") == ranges["parameter"].astype("str").map(units)
    first = ranges.assign(_own=own_unit).sort_values("_own", ascending=False, kind="stable")
    return first.drop_duplicates(["case_id", "parameter"]).sort_index().drop(columns="_own")
