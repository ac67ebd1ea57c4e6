"""Build the Quarto manuscript's generated inputs: the `_variables.yml` every number in the prose
comes from, and the Markdown fragments (tables, audit, figures, provenance) it includes.

Quarto reads `_variables.yml` from the project directory, so the pipeline assembles a render
directory of its own (`paths.manuscript_inputs_dir`): the hand-written sources of `manuscript/`
plus the files built here. Nothing here is written into `manuscript/`, which stays source.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from caserepro import claims, paths
from caserepro import labels as readers
from caserepro.bands import reference_range_per_parameter
from caserepro.intervals import year_and_month
from caserepro.markup import (
    attribute_text,
    expanded_text,
    markdown_text,
    pipe_table,
    text_table,
)
from caserepro.verdicts import VERDICTS, WORST_FIRST

#: The manuscript of the mission's paper: the default source folder (config `manuscript`).
DEFAULT_SOURCE_DIR = "manuscript"

#: Hand-written sources copied from the source folder into the render directory.
SOURCES: tuple[str, ...] = ("_quarto.yml", "index.qmd", "references.bib", "typst-verbatim.lua")

#: Sources a paper's own folder may leave out: then the default folder's are used.
SHARED_SOURCES: tuple[str, ...] = ("_quarto.yml", "typst-verbatim.lua")

#: Generated fragments besides the tables and figures.
OTHER_FRAGMENTS: tuple[str, ...] = (
    "claims-in-words",
    "audit-counts",
    "audit-kinds",
    "audit-flagged",
    "audit-table",
    "provenance",
)

#: The figures (the figure stage's names) and the folder of the render directory they are copied to.
FIGURES: tuple[str, ...] = paths.FIGURES
FIGURE_DIR = "figures"


#: Minus sign for signed changes in prose.
MINUS = "−"

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def not_rendered_message(inputs_dir: str | Path) -> str:
    """The one line printed when Quarto is missing: what was built, and how to render it."""
    return (
        f"Manuscript NOT rendered: no `quarto` found (its inputs are built in {inputs_dir}). "
        "To render it, run `bash .ci/install-quarto` (it uses `pip install quarto-cli`, which "
        "needs GitHub), or install Quarto from https://quarto.org/docs/get-started/ and put it "
        "on PATH, then run snakemake again."
    )


def fragment_name(stem: str) -> str:
    """File name of a generated include fragment (a leading `_` keeps Quarto from rendering it alone)."""
    return f"_{stem}.md"


def figure_fragment_stem(figure: str) -> str:
    """Stem of the fragment that places one figure."""
    return f"fig-{figure}"


def source_files(source_dir: str | Path) -> dict[str, Path]:
    """The manuscript's hand-written sources by name: the paper's own folder's, and for the
    project settings and filter it does not have, the default folder's."""
    own = Path(source_dir)
    return {
        name: own / name
        if (own / name).exists() or name not in SHARED_SOURCES
        else Path(DEFAULT_SOURCE_DIR) / name
        for name in SOURCES
    }


def generated_files(tables: Sequence[str]) -> list[str]:
    """Every file of the render directory that the pipeline writes, relative to it, for a
    manuscript that includes the paper tables `tables` (`_<table>.md` each)."""
    fragments = [fragment_name(s) for s in (*tables, *OTHER_FRAGMENTS)]
    fragments += [fragment_name(figure_fragment_stem(f)) for f in FIGURES]
    figures = [f"{FIGURE_DIR}/{f}.svg" for f in FIGURES]
    return [*SOURCES, "_variables.yml", *fragments, *figures]


#: Environment variable naming the `quarto` to use; set but empty, the manuscript is not rendered.
QUARTO_ENV = "CASEREPRO_QUARTO"


def find_quarto() -> str | None:
    """The `quarto` to render with, or None: `$CASEREPRO_QUARTO` if set, else `quarto` on PATH,
    else the one beside this Python (where `.ci/install-quarto` and `pip install quarto-cli` put it)."""
    if QUARTO_ENV in os.environ:
        return shutil.which(os.environ[QUARTO_ENV]) if os.environ[QUARTO_ENV] else None
    return shutil.which("quarto") or shutil.which("quarto", path=str(Path(sys.executable).parent))


class RenderError(RuntimeError):
    """Quarto failed, or warned (an unresolved cross-reference, an unknown variable)."""


def render(quarto: str, project: str | Path, output_dir: str | Path, log: str | Path) -> None:
    """Render the project into `output_dir` (emptied first) from a scratch copy of it, with
    Quarto's output in `log`; a failure or any warning is an error, and leaves no output."""
    output_dir = Path(output_dir).resolve()
    shutil.rmtree(output_dir, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / Path(project).name
        shutil.copytree(project, copy)
        with open(log, "w", encoding="utf-8") as out:
            command = [quarto, "render", str(copy), "--output-dir", str(output_dir)]
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    said = Path(log).read_text(encoding="utf-8")
    warnings = [line for line in said.splitlines() if "WARN" in line.upper()]
    if done.returncode != 0 or warnings:
        shutil.rmtree(output_dir, ignore_errors=True)
        problem = f"exit status {done.returncode}" if done.returncode else "warnings"
        raise RenderError(
            f"quarto render failed ({problem}); see {log}" + "".join(f"\n  {w}" for w in warnings)
        )


# --- formatting -----------------------------------------------------------------------------


def format_number(value: float, decimals: int, signed: bool = False) -> str:
    """A number for prose: its own decimals, thousands separated, a true minus sign when negative."""
    text = f"{abs(value):,.{int(decimals)}f}"
    if value < 0 and float(text.replace(",", "")) != 0:
        return MINUS + text
    return ("+" + text) if signed and float(text.replace(",", "")) != 0 else text


def format_month(month: str) -> str:
    """'2022-08' -> 'August 2022'; '2025' -> '2025' (dates are kept at month precision)."""
    year, number = year_and_month(pd.Series([month])).iloc[0]
    if np.isnan(number):
        return str(month)
    return pd.Timestamp(year=int(year), month=int(number), day=1).strftime("%B %Y")


def slug(text: str) -> str:
    """A variable key from free text: 'Echocardiography (January 2025)' -> 'echocardiography_january_2025'."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def _nest(keys: pd.DataFrame, values: pd.Series) -> dict[str, Any]:
    """Nested dict from key columns (left to right) and values; blank key parts are skipped."""
    out: dict[str, Any] = {}
    for parts, value in zip(keys.astype("string").fillna("").values.tolist(), values, strict=True):
        node = out
        parts = [p for p in parts if p]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(parts[-1], value)
    return out


# --- variables ------------------------------------------------------------------------------


def index_case(tables: Mapping[str, pd.DataFrame]) -> str:
    """The case the manuscript tells (the first of the case table: see `of_case`)."""
    return str(tables["cases"]["case_id"].iloc[0])


def manuscript_case(tables: Mapping[str, pd.DataFrame], case_id: str | None) -> str:
    """The case the manuscript tells: config `manuscript.case_id`, or the first of the case table."""
    cases = tables["cases"]["case_id"].astype(str)
    case = case_id or cases.iloc[0]
    if case not in set(cases):
        raise ValueError(f"config manuscript.case_id {case!r} is not a case of cases.csv")
    return case


def of_case(frames: Mapping[str, Any], case: str) -> dict[str, Any]:
    """Every table restricted to one case: its own rows and those that hold for every case
    (case_id blank); tables without a case_id column as they are."""
    return {
        name: frame[frame["case_id"].isna() | (frame["case_id"].astype("string") == case)]
        if isinstance(frame, pd.DataFrame) and "case_id" in frame
        else frame
        for name, frame in frames.items()
    }


def _of_case(frame: pd.DataFrame, case_id: str) -> pd.DataFrame:
    return frame[frame["case_id"] == case_id]


def case_variables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The case in brief: sex, age, diagnosis, and where the paper gives them, onset,
    admission and NYHA class at admission (a fact the paper leaves out has no key)."""
    case = tables["cases"].iloc[0]
    facts = {
        "id": str(case["case_id"]),
        "sex": str(case["sex"]),
        "age": str(int(case["age_years"])),
        "diagnosis": str(case["diagnosis"]),
    }
    if pd.notna(case.get("symptom_onset")):
        facts["symptom_onset"] = format_month(case["symptom_onset"])
    if pd.notna(case.get("admission")):
        facts["admission"] = format_month(case["admission"])
    nyha = case.get("nyha_class_at_admission")
    if pd.notna(nyha):
        facts["nyha_admission"] = ROMAN.get(int(nyha), str(nyha))
    return facts


def timepoint_variables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Each timepoint's date (month precision, in words, where the paper dates it) and label;
    the infusion schedule, where the case has infusions."""
    case_id = index_case(tables)
    tp = _of_case(tables["timepoints"], case_id)
    dated = tp[tp["date"].notna()]
    variables: dict[str, Any] = {
        "dates": dict(zip(dated["timepoint"], dated["date"].map(format_month), strict=True)),
        "labels": dict(zip(tp["timepoint"], tp["label"], strict=True)),
    }
    inf = _of_case(tables["infusions"], case_id)
    if len(inf):
        variables["infusions"] = infusion_variables(tables, tp, inf)
    return variables


def infusion_variables(
    tables: Mapping[str, pd.DataFrame], tp: pd.DataFrame, inf: pd.DataFrame
) -> dict[str, str]:
    """How many infusions, how far apart, with how many complications and cells."""
    months = tp["months_after_first_infusion"].dropna().astype("int64").sort_values()
    gaps = months.diff().dropna().unique()
    complicated = inf["complications"].str.strip().str.lower().ne("none")
    cells_dec = int(tables["dictionary"].set_index("parameter").at["cell_dose", "decimals"])
    return {
        "count": str(len(inf)),
        "interval_months": str(int(gaps[0])) if len(gaps) == 1 else "irregular",
        "span_months": str(int(months.iloc[-1] - months.iloc[0])) if len(months) else "",
        "complications": complications_said(int(complicated.sum()), len(inf)),
        "cells_min": format_number(inf["cells_million"].min(), cells_dec),
        "cells_max": format_number(inf["cells_million"].max(), cells_dec),
        "cells_total": format_number(inf["cells_million"].sum(), cells_dec),
    }


def complications_said(with_complications: int, count: int) -> str:
    """After how many of the infusions complications were recorded, as a clause of prose ("no
    complications were recorded after any of the 4 infusions", not "after 0 of the 4")."""
    recorded = "complications were recorded after"
    if count == 1:
        return f"{'no ' if with_complications == 0 else ''}{recorded} the infusion"
    if with_complications == 0:
        return f"no {recorded} any of the {count} infusions"
    if with_complications == count:
        return f"{recorded} all {count} infusions"
    return f"{recorded} {with_complications} of the {count} infusions"


def value_variables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Every printed value of the case as `<source>.<timepoint>.<parameter>[.<method>]`, formatted for prose."""
    m = _of_case(tables["measurements"], index_case(tables))
    printed = pd.Series(
        [format_number(v, d) for v, d in zip(m["value_num"], m["decimals"], strict=True)],
        index=m.index,
    )
    # NYHA classes are printed as Roman numerals, as the paper prints them.
    roman = m["value_num"].map(lambda v: ROMAN.get(int(v), "") if float(v).is_integer() else "")
    printed = printed.mask(m["parameter"].eq("nyha_class") & roman.ne(""), roman)
    # A qualified value reads as the paper writes it: 'more than 505', '< 1.0'.
    qualifier = m["qualifier"].astype("string").fillna("").str.strip()
    printed = printed.mask(qualifier != "", qualifier + " " + printed)
    keys = pd.DataFrame(
        {
            "source": m["source"].map(slug),
            "timepoint": m["timepoint"],
            "parameter": m["parameter"],
            "method": m["method"],
        }
    )
    return _nest(keys, printed)


def _decimals(tables: Mapping[str, pd.DataFrame], parameters: pd.Series) -> pd.Series:
    """The dictionary's printed decimals of each parameter."""
    return (
        parameters.map(tables["dictionary"].set_index("parameter")["decimals"])
        .fillna(0)
        .astype("int64")
    )


def change_variables(tables: Mapping[str, pd.DataFrame], change: pd.DataFrame) -> dict[str, Any]:
    """Change from baseline to the last timepoint of every table value (metrics' change_from_baseline.csv),
    as `<source>.<parameter>[.<method>].<field>`: from, to, delta (signed), size, pct, pct_size, direction."""
    c = change[change["case_id"] == index_case(tables)]
    c = c[c["timepoint"] != c["baseline_timepoint"]]
    series = ["source", "modality", "method", "parameter"]
    c = c.assign(method=c["method"].fillna("")).drop_duplicates(series, keep="last")
    # Printed decimals of both ends (Table 2 prints volumes with one decimal, the dictionary with none).
    m = tables["measurements"]
    printed = m.assign(method=m["method"].fillna(""))[[*series, "timepoint", "decimals"]]
    printed = printed.drop_duplicates([*series, "timepoint"])
    end = c.merge(printed, on=[*series, "timepoint"], how="left")["decimals"]
    start = c.merge(
        printed.rename(columns={"timepoint": "baseline_timepoint"}),
        on=[*series, "baseline_timepoint"],
        how="left",
    )["decimals"]
    fallback = _decimals(tables, c["parameter"]).to_numpy()
    dec_to = end.fillna(pd.Series(fallback)).astype("int64").to_numpy()
    dec_from = start.fillna(pd.Series(fallback)).astype("int64").to_numpy()
    dec = np.maximum(dec_to, dec_from)
    pct = c["change_percent"].astype("float64")
    fields = {
        "from": [format_number(v, d) for v, d in zip(c["baseline_value"], dec_from, strict=True)],
        "to": [format_number(v, d) for v, d in zip(c["value"], dec_to, strict=True)],
        "from_timepoint": c["baseline_timepoint"].tolist(),
        "to_timepoint": c["timepoint"].tolist(),
        "delta": [format_number(v, d, signed=True) for v, d in zip(c["change"], dec, strict=True)],
        "size": [format_number(abs(v), d) for v, d in zip(c["change"], dec, strict=True)],
        "pct": [format_number(v, 0, signed=True) if pd.notna(v) else "" for v in pct],
        "pct_size": [format_number(abs(v), 0) if pd.notna(v) else "" for v in pct],
        "direction": np.select(
            [c["change"] > 0, c["change"] < 0], ["rose", "fell"], "did not change"
        ).tolist(),
    }
    long = pd.concat(
        [c[["source", "parameter", "method"]].assign(field=f, value=v) for f, v in fields.items()],
        ignore_index=True,
    )
    long = long.assign(source=long["source"].map(slug))
    return _nest(long[["source", "parameter", "method", "field"]], long["value"])


def classification_variables(
    tables: Mapping[str, pd.DataFrame], classes: pd.DataFrame
) -> dict[str, Any]:
    """Each classified printed value's category in words, as `<source>.<timepoint>.<scheme>[.<method>]`."""
    c = classes[classes["case_id"] == index_case(tables)]
    words = c["category"].astype("string").str.replace("_", " ")
    keys = pd.DataFrame(
        {
            "source": c["source"].map(slug),
            "timepoint": c["timepoint"],
            "scheme": c["scheme"],
            "method": c["method"],
        }
    )
    return _nest(keys, words.tolist())


def _yes_no(flags: pd.Series, yes: str, no: str) -> list[str]:
    text = flags.astype("string").str.lower().fillna("")
    return text.map({"true": yes, "false": no}).fillna("not assessable").tolist()


def remodelling_variables(
    tables: Mapping[str, pd.DataFrame], remodelling: pd.DataFrame
) -> dict[str, Any]:
    """HFimpEF and reverse-remodelling verdicts at the last timepoint of each series,
    as `<source>.<method or 'all'>.<field>`."""
    r = remodelling[remodelling["case_id"] == index_case(tables)]
    r = r.assign(method=r["method"].fillna("all")).drop_duplicates(
        ["source", "modality", "method"], keep="last"
    )
    fields = {
        "to_timepoint": r["timepoint"].tolist(),
        "lvef_rise": [
            format_number(v, 0) if pd.notna(v) else "" for v in r["lvef_rise"].astype("float64")
        ],
        "lv_esv_fall_percent": [
            format_number(v, 0) if pd.notna(v) else ""
            for v in r["lv_esv_fall_percent"].astype("float64")
        ],
        "hfimpef": _yes_no(r["hfimpef"], "met", "not met"),
        "lvef_rise_met": _yes_no(r["lvef_rise_met"], "met", "not met"),
        "lv_esv_fall_met": _yes_no(r["lv_esv_fall_met"], "met", "not met"),
        "reverse_remodelling": _yes_no(r["reverse_remodelling"], "met", "not met"),
    }
    long = pd.concat(
        [r[["source", "method"]].assign(field=f, value=v) for f, v in fields.items()],
        ignore_index=True,
    )
    long = long.assign(source=long["source"].map(slug))
    return _nest(long[["source", "method", "field"]], long["value"])


def haemodynamic_variables(
    tables: Mapping[str, pd.DataFrame], haemo: pd.DataFrame
) -> dict[str, Any]:
    """LVEF and stroke volume recomputed from the printed volumes, with their rounding intervals,
    as `<source>.<timepoint>[.<method>].<lvef|stroke_volume>[_low|_high]`."""
    h = haemo[haemo["case_id"] == index_case(tables)]
    decimals = {"lvef": 1, "stroke_volume": 1}
    parts = []
    for name, dec in decimals.items():
        for suffix in ("", "_low", "_high"):
            values = [format_number(v, dec) for v in h[name + suffix].astype("float64")]
            parts.append(
                h[["source", "timepoint", "method"]].assign(field=name + suffix, value=values)
            )
    long = pd.concat(parts, ignore_index=True)
    long = long.assign(source=long["source"].map(slug))
    return _nest(long[["source", "timepoint", "method", "field"]], long["value"])


def implied_variables(tables: Mapping[str, pd.DataFrame], implied: pd.DataFrame) -> dict[str, Any]:
    """Body-surface area (m², two decimals) and scan heart rate (bpm) implied by the MRI values,
    as `<source>.<timepoint>[.<method>].<quantity>[_low|_high]`."""
    i = implied[implied["case_id"] == index_case(tables)]
    decimals = {"bsa_from_sv": 2, "bsa_from_co": 2, "heart_rate": 0}
    parts = []
    for name, dec in decimals.items():
        for suffix in ("", "_low", "_high"):
            values = [
                format_number(v, dec) if pd.notna(v) else ""
                for v in i[name + suffix].astype("float64")
            ]
            parts.append(
                i[["source", "timepoint", "method"]].assign(field=name + suffix, value=values)
            )
    long = pd.concat(parts, ignore_index=True)
    long = long[long["value"] != ""]
    long = long.assign(source=long["source"].map(slug))
    return _nest(long[["source", "timepoint", "method", "field"]], long["value"])


def dictionary_variables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Each parameter's label, unit and plausible range, from the data dictionary."""
    d = tables["dictionary"]
    long = pd.concat(
        [
            d[["parameter"]].assign(field="label", value=d["label"].tolist()),
            d[["parameter"]].assign(field="unit", value=d["unit"].tolist()),
            d[["parameter"]].assign(
                field="min",
                value=[format_number(v, 0 if float(v).is_integer() else 1) for v in d["min"]],
            ),
            d[["parameter"]].assign(
                field="max",
                value=[format_number(v, 0 if float(v).is_integer() else 1) for v in d["max"]],
            ),
        ],
        ignore_index=True,
    )
    return _nest(long[["parameter", "field"]], long["value"])


def reference_range_variables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The paper's own reference ranges, as `<parameter>.low|high|unit`, in the dictionary's unit
    and printed decimals (none when the paper prints none)."""
    ranges = tables.get("reference_ranges")
    if ranges is None or ranges.empty:
        return {}
    ranges = reference_range_per_parameter(ranges, tables["dictionary"])
    decimals = _decimals(tables, ranges["parameter"])
    units = ranges["parameter"].map(tables["dictionary"].set_index("parameter")["unit"])
    out: dict[str, Any] = {}
    for row, d, unit in zip(ranges.itertuples(), decimals, units, strict=True):
        bounds = {"low": row.low_num, "high": row.high_num}
        out[row.parameter] = {
            **{k: format_number(v, d) for k, v in bounds.items() if pd.notna(v)},
            "unit": str(unit),
        }
    return out


def constant_variables(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The formulas' constants (constants.csv) as `<constant>.value|unit`, as written there."""
    constants = tables.get("constants")
    if constants is None or constants.empty:
        return {}
    return {
        str(row.constant): {"value": str(row.value), "unit": str(row.unit)}
        for row in constants.itertuples()
    }


def threshold_variables(thresholds: Mapping[str, Any]) -> dict[str, Any]:
    """config.yaml's thresholds as prose strings (citations are cited in the text, not printed as values)."""
    return {
        group: {
            k: format_number(v, 0 if float(v).is_integer() else 1)
            for k, v in values.items()
            if k != "citation" and isinstance(v, int | float)
        }
        for group, values in thresholds.items()
    }


def audit_variables(audit: pd.DataFrame) -> dict[str, Any]:
    """How many checks the audit ran, and how many got each verdict."""
    counts = audit["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    return {"checks": str(len(audit)), **{v: str(int(n)) for v, n in counts.items()}}


def _git_text(provenance: Mapping[str, Any]) -> tuple[str, str]:
    """The commit (or 'none') and git's note (clean checkout, dirty, not a checkout)."""
    git = provenance.get("git") or {}
    return str(git.get("commit") or "none"), str(git.get("note") or "")


def provenance_variables(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The few provenance facts the prose names: commit, its state, Python version, number of inputs."""
    commit, note = _git_text(provenance)
    python = provenance.get("python") or {}
    return {
        "commit": commit[:12],
        "git_note": note,
        "python": " ".join(str(python.get(k, "")) for k in ("implementation", "version")).strip()
        or "unknown",
        "inputs": str(len(provenance.get("inputs") or {})),
    }


def manuscript_variables(
    tables: Mapping[str, pd.DataFrame],
    thresholds: Mapping[str, Any],
    metrics: Mapping[str, pd.DataFrame],
    audit: pd.DataFrame,
    provenance: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything `_variables.yml` holds: one key per number or fact the prose names."""
    return {
        "case": case_variables(tables),
        **timepoint_variables(tables),
        "dictionary": dictionary_variables(tables),
        "values": value_variables(tables),
        "change": change_variables(tables, metrics["change_from_baseline"]),
        "class": classification_variables(tables, metrics["classifications"]),
        "remodelling": remodelling_variables(tables, metrics["remodelling"]),
        "recomputed": haemodynamic_variables(tables, metrics["haemodynamics"]),
        "implied": implied_variables(tables, metrics["implied"]),
        "reference_ranges": reference_range_variables(tables),
        "constants": constant_variables(tables),
        "thresholds": threshold_variables(thresholds),
        "audit": audit_variables(audit),
        "provenance": provenance_variables(provenance),
    }


def _escaped(variables: Any) -> Any:
    """Every leaf of nested variables as Markdown that Quarto shows verbatim."""
    if isinstance(variables, Mapping):
        return {key: _escaped(value) for key, value in variables.items()}
    return expanded_text(str(variables))


def variables_yaml(variables: Mapping[str, Any]) -> str:
    """`_variables.yml` text: sorted keys, every value a string shown verbatim, byte-stable."""
    header = "# Generated by caserepro.manuscript from data/raw and results/: do not edit.\n"
    return header + yaml.safe_dump(
        _escaped(dict(variables)), sort_keys=True, allow_unicode=True, width=1000
    )


def flatten_keys(variables: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Every dotted key a `{{< var >}}` shortcode can name."""
    keys: set[str] = set()
    for key, value in variables.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            keys |= flatten_keys(value, name + ".")
        else:
            keys.add(name)
    return keys


# --- fragments ------------------------------------------------------------------------------


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of a frame's cells, each shown verbatim (text from the raw tables is data)."""
    return text_table(list(frame.columns), frame.astype("string").fillna("").values.tolist())


#: Order of the audit's tables for readers: the worst verdicts first.
_SEVERITY = {v: i for i, v in enumerate(WORST_FIRST)}


def _worst_first(audit: pd.DataFrame, book: readers.Codebook) -> pd.DataFrame:
    """The audit's checks, readable, worst verdicts first, then grouped by kind of check."""
    shown = readers.readable_checks(audit, book)
    order = pd.DataFrame(
        {
            "severity": audit["verdict"].map(_SEVERITY).fillna(len(_SEVERITY)).to_numpy(),
            "kind": shown["kind"],
            "case": shown["case_id"],
            "parameter": shown["parameter"],
            "timepoint": shown["timepoint"],
        }
    )
    return shown.loc[order.sort_values(list(order.columns), kind="stable").index]


def _with_case_column(frame: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """A case column first, for a case series (a single case needs none)."""
    if shown["case_id"].nunique() > 1:
        return frame.assign(Case=shown["case_id"].to_numpy())[["Case", *frame.columns]]
    return frame


def audit_counts_fragment(audit: pd.DataFrame) -> str:
    """The verdicts of the audit and how many checks got each."""
    counts = audit["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    frame = pd.DataFrame(
        {"Verdict": [readers.VERDICT_LABELS[v] for v in VERDICTS], "Checks": counts.astype(str)}
    )
    return markdown_table(frame)


#: The columns of the audit's tables for readers, from `labels.readable_checks`.
_CHECK_COLUMNS = {
    "kind": "Check",
    "parameter": "Parameter",
    "timepoint": "Timepoint",
    "method": "Method",
    "source": "Source",
    "reported": "Printed",
    "implied": "Implied",
    "gap": "Gap",
    "verdict": "Verdict",
}


def _checks_table(audit: pd.DataFrame, book: readers.Codebook, gap: bool) -> str:
    """Checks as readers see them, worst first (a case column for a series; the gap if asked)."""
    shown = _worst_first(audit, book)
    columns = {k: v for k, v in _CHECK_COLUMNS.items() if gap or k != "gap"}
    frame = shown[list(columns)].rename(columns=columns)
    return markdown_table(_with_case_column(frame, shown))


def audit_flagged_fragment(audit: pd.DataFrame, book: readers.Codebook) -> str:
    """The checks that are not consistent, grouped by kind: the paper's value, what the other
    numbers imply, and the gap."""
    return _checks_table(audit[audit["verdict"].isin(["inconsistent", "minor"])], book, gap=True)


def claims_in_words_fragment(claims: pd.DataFrame) -> str:
    """The paper's claims in words (`claims.claims_in_words`): each cell verbatim, but for the
    definition's citations, which stay citations (`[@key; @key]`)."""
    parts = claims["definition"].astype(str).str.extract(r"^(.*?)(?: (\[@[^\]]*\]))?$")
    definition = [
        markdown_text(text) + (f" {cites}" if isinstance(cites, str) else "")
        for text, cites in zip(parts[0], parts[1], strict=True)
    ]
    columns = {"claim": "Claim", "parameter": "Parameter", "timepoint": "Timepoint"}
    shown = [[markdown_text(v) for v in row] for row in claims[list(columns)].values.tolist()]
    rows = [
        [*cells, d, markdown_text(values), markdown_text(verdict)]
        for cells, d, values, verdict in zip(
            shown, definition, claims["values"], claims["verdict"], strict=True
        )
    ]
    header = [*columns.values(), "Definition", "Values", "Verdict"]
    return pipe_table([markdown_text(h) for h in header], rows)


def check_kinds_fragment(audit: pd.DataFrame, book: readers.Codebook) -> str:
    """Each kind of check the audit ran, in a line: its name and what it compares."""
    kinds = pd.Series(sorted(set(audit["check"])), dtype="string")
    frame = pd.DataFrame(
        {
            "Check": book.check(kinds),
            "What it compares": kinds.map(book.explanations),
            "Checks": kinds.map(audit["check"].value_counts()).astype(str),
        }
    ).sort_values("Check", kind="stable")
    return markdown_table(frame)


def audit_table(audit: pd.DataFrame, book: readers.Codebook) -> str:
    """Every check of the audit, one row each, worst verdicts first."""
    return _checks_table(audit, book, gap=False)


def grouped_hash(digest: str, size: int = 16) -> str:
    """A long checksum in groups of `size` characters, so that it wraps in a narrow column."""
    return " ".join(digest[i : i + size] for i in range(0, len(digest), size))


def provenance_fragment(provenance: Mapping[str, Any]) -> str:
    """The provenance appendix: checksum and size of every input, and package versions."""
    inputs = provenance.get("inputs") or {}
    files = pd.DataFrame(
        [
            (path, grouped_hash(str(v.get("sha256", ""))), str(v.get("bytes", "")))
            for path, v in sorted(inputs.items())
        ],
        columns=["Input file", "SHA-256", "Bytes"],
    )
    packages = provenance.get("packages") or {}
    pk = pd.DataFrame(
        [(name, version or "not installed") for name, version in sorted(packages.items())],
        columns=["Package", "Version"],
    )
    commit, note = _git_text(provenance)
    lines = [
        f"Git commit: {markdown_text(commit)} ({markdown_text(note)}).",
        "",
        markdown_table(files),
        "",
        ": SHA-256 checksums (in groups of 16 hexadecimal digits) and sizes of the pipeline's "
        'inputs. {#tbl-checksums tbl-colwidths="[30,58,12]"}',
        "",
        markdown_table(pk),
        "",
        ": Versions of the packages that built this report. {#tbl-packages}",
    ]
    return "\n".join(lines) + "\n"


def figure_fragment(figure: str, caption: str, alt: str) -> str:
    """One figure with its caption (verbatim: it names the case's own timepoints and labels),
    cross-reference label and alt text."""
    return (
        f"![{markdown_text(' '.join(caption.split()))}]({FIGURE_DIR}/{figure}.svg)"
        f'{{#fig-{figure} fig-alt="{attribute_text(alt)}"}}\n'
    )


class UnfilledVariableError(ValueError):
    """The manuscript names a `{{< var >}}` the data cannot fill."""


def unfilled_keys(qmd: str, variables: Mapping[str, Any]) -> list[str]:
    """Keys a `{{< var >}}` of the source names that the variables lack, or hold blank or NaN."""
    flat = dict(_flat_items(variables))
    return sorted(k for k in var_keys(qmd) if flat.get(k, "").strip() in ("", "nan"))


def _flat_items(variables: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items = []
    for key, value in variables.items():
        if isinstance(value, Mapping):
            items += _flat_items(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", str(value)))
    return items


def render_dir_texts(
    tables: Mapping[str, pd.DataFrame],
    thresholds: Mapping[str, Any],
    metrics: Mapping[str, pd.DataFrame],
    sources: Mapping[str, str],
    table_markdown: Mapping[str, str],
    audit: pd.DataFrame,
    figures: Mapping[str, tuple[str, str]],
    provenance: Mapping[str, Any],
    case_id: str | None = None,
) -> dict[str, str]:
    """Every text file of the render directory, by name: sources, `_variables.yml` and fragments,
    for the case the manuscript tells (`case_id`, or the first case). A `{{< var >}}` of the
    source that the data cannot fill is an error naming it (never 'nan' in the prose)."""
    case = manuscript_case(tables, case_id)
    tables, metrics = of_case(tables, case), of_case(metrics, case)
    audit = of_case({"audit": audit}, case)["audit"]
    variables = manuscript_variables(tables, thresholds, metrics, audit, provenance)
    unfilled = unfilled_keys(sources["index.qmd"], variables)
    if unfilled:
        raise UnfilledVariableError(
            "index.qmd names variables the data cannot fill (missing, blank or NaN for case "
            f"{index_case(tables)!r}): {', '.join(unfilled)}"
        )
    texts = dict(sources)
    texts["_variables.yml"] = variables_yaml(variables)
    for table, markdown in table_markdown.items():
        texts[fragment_name(table)] = markdown
    book = readers.codebook(tables)
    in_words = claims.claims_in_words(audit, tables, {"thresholds": thresholds})
    texts[fragment_name("claims-in-words")] = claims_in_words_fragment(in_words)
    texts[fragment_name("audit-counts")] = audit_counts_fragment(audit)
    texts[fragment_name("audit-kinds")] = check_kinds_fragment(audit, book)
    texts[fragment_name("audit-flagged")] = audit_flagged_fragment(audit, book)
    texts[fragment_name("audit-table")] = audit_table(audit, book)
    texts[fragment_name("provenance")] = provenance_fragment(provenance)
    for figure in FIGURES:
        caption, alt = figures[figure]
        texts[fragment_name(figure_fragment_stem(figure))] = figure_fragment(figure, caption, alt)
    return texts


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance record (results/provenance.json)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_figure_text(path: str | Path) -> tuple[str, str]:
    """A figure's caption and alt text, from the JSON the figure stage writes beside it."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    return str(record["caption"]), str(record["alt"])


# --- checks on the hand-written source ----------------------------------------------------------

#: Tokens with digits that are names, not numbers (test names, hash names, drug classes).
ALLOWED_DIGIT_TOKENS: frozenset[str] = frozenset({"6MWT", "SHA-256", "SGLT2i", "SGLT2"})

_NOT_PROSE = [
    re.compile(r"<!--.*?-->", re.S),  # comments
    re.compile(r"\{\{<.*?>\}\}", re.S),  # shortcodes: var, include
    re.compile(r"\{[#.][^}]*\}"),  # attributes: {#tbl-x}, {.appendix}
    re.compile(r"\[?-?@[\w:.\-]+\]?"),  # citations and cross-references (keys may hold digits)
    re.compile(r"<?https?://\S+>?"),  # URLs
]
_TOKEN = re.compile(r"[\w][\w\-.,/]*")


def typed_numbers(qmd: str) -> list[str]:
    """Digit-bearing tokens typed into a .qmd outside shortcodes, citations, labels and allowed names.

    Every number the manuscript states must come from `_variables.yml` through `{{< var >}}`;
    section numbers are Quarto's (`number-sections`), never typed.
    """
    text = qmd
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    tokens = [t.rstrip(".,/-") for t in _TOKEN.findall(text)]
    return [t for t in tokens if re.search(r"[0-9]", t) and t not in ALLOWED_DIGIT_TOKENS]


def var_keys(qmd: str) -> set[str]:
    """The keys named by `{{< var key >}}` shortcodes."""
    return set(re.findall(r"\{\{<\s*var\s+([\w.\-]+)\s*>\}\}", qmd))


def include_paths(qmd: str) -> set[str]:
    """The files named by `{{< include path >}}` shortcodes."""
    return set(re.findall(r"\{\{<\s*include\s+(\S+)\s*>\}\}", qmd))


def cross_references(text: str) -> set[str]:
    """`@tbl-`/`@fig-` cross-references."""
    return set(re.findall(r"@((?:tbl|fig)-[\w\-]*\w)", text))


def labels(text: str) -> set[str]:
    """`{#tbl-...}`/`{#fig-...}` labels."""
    return set(re.findall(r"\{#((?:tbl|fig)-[\w\-]*\w)[\s}]", text))


def citation_keys(qmd: str) -> set[str]:
    """Bibliography keys cited with `@key` (cross-references excluded)."""
    text = re.sub(r"\{\{<.*?>\}\}", " ", re.sub(r"<!--.*?-->", " ", qmd, flags=re.S), flags=re.S)
    keys = re.findall(r"(?<![\w@])-?@([A-Za-z][\w:\-]*\w)", text)
    return {k for k in keys if not k.startswith(("tbl-", "fig-", "sec-", "eq-"))}


def bib_keys(bib: str) -> set[str]:
    """Entry keys of a BibTeX file."""
    return set(re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.M))


def image_paths(markdown: str) -> set[str]:
    """Paths of Markdown images."""
    return set(re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown))
