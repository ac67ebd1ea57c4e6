"""The audit's figure: every check that is not consistent, the printed value against the interval
the paper's other numbers imply, grouped by kind of check and named in the codebook's words.

Consistent and not-checkable checks are counted in the caption and listed in the manuscript's
tables; drawing them too would bury the few rows a reader needs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from caserepro.figures import VERDICT_COLOURS, VERDICT_MARKERS, VERDICTS, Drawn
from caserepro.labels import VERDICT_LABELS, Codebook, readable_checks, reported_interval
from caserepro.markup import plot_text
from caserepro.theme import CONTEXT_GREY, themed
from caserepro.verdicts import CONTRACT_COLUMNS

#: The verdicts the figure draws, worst first.
DRAWN_VERDICTS: tuple[str, ...] = ("inconsistent", "minor")


def read_audit(path: str | Path) -> pd.DataFrame:
    """The audit CSV with every cell as printed text (so a reported '264.0' keeps its decimal)."""
    audit = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
    missing = [c for c in CONTRACT_COLUMNS if c not in audit.columns]
    if missing:
        raise ValueError(f"{path}: audit columns missing: {', '.join(missing)}")
    return audit


def audit_data(audit: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """The flagged checks, readable, on one relative axis: position 0 is the middle of the implied
    interval (its one finite end when the other is open), positions are differences from it in
    percent of it, so checks in different units share the axis. Worst first, grouped by kind."""
    flagged = audit[audit["verdict"].isin(DRAWN_VERDICTS)].reset_index(drop=True)
    shown = readable_checks(flagged, book)
    series = shown["case_id"].nunique() > 1  # a case series: each row names its case
    shown["case"] = shown["case_id"].fillna("") if series else ""
    decimals = flagged["parameter"].map(book.decimals).fillna(1).astype("int64")
    reported, _ = reported_interval(flagged["reported"], decimals, book.meanings)
    low = pd.to_numeric(flagged["expected_low"], errors="coerce")
    high = pd.to_numeric(flagged["expected_high"], errors="coerce")
    centre = ((low + high) / 2).fillna(low).fillna(high)
    scale = centre.abs().where(centre != 0) / 100
    relative = pd.DataFrame(
        {
            "implied_from": ((low - centre) / scale).fillna(-np.inf),
            "implied_to": ((high - centre) / scale).fillna(np.inf),
            "printed_from": (reported.lo - centre) / scale,
            "printed_to": (reported.hi - centre) / scale,
        }
    )
    relative["printed_at"] = (relative["printed_from"] + relative["printed_to"]) / 2
    data = pd.concat(
        [shown, relative, flagged[["verdict"]].rename(columns={"verdict": "code"})], axis=1
    )
    data = data[data["printed_at"].notna()]
    rank = data["code"].map({v: i for i, v in enumerate(DRAWN_VERDICTS)})
    order = data.assign(rank=rank).sort_values(
        ["kind", "rank", "parameter", "timepoint"], kind="stable"
    )
    return order.reset_index(drop=True)


def _row_label(row: pd.Series) -> str:
    """'Left ventricular ejection fraction, MRI after therapy (2025), blood volume (BV)', after
    the case ('LAT2026-01: ...') in a case series."""
    where = ", ".join(p for p in (row["parameter"], row["timepoint"], row["method"]) if p)
    return f"{row['case']}: {where}" if row["case"] else where


def _tick_label(row: pd.Series) -> str:
    """A row's label on the axis: the kind's heading, or the check's label on two short lines."""
    return plot_text(row["kind"] if row["heading"] else textwrap.fill(_row_label(row), 44))


def _note(row: pd.Series) -> str:
    """The right margin: printed vs implied, and where the paper prints the value."""
    source = textwrap.shorten(row["source"], 34, placeholder="…")
    return plot_text(f"{row['reported']} vs {row['implied']}\n{source}")


def _rows_with_headings(data: pd.DataFrame) -> pd.DataFrame:
    """One heading row per kind of check before its checks (`heading` True, nothing drawn)."""
    parts = []
    for kind, group in data.groupby("kind", sort=False):
        parts.append(pd.DataFrame({"kind": [kind], "heading": [True]}))
        parts.append(group.assign(heading=False))
    return pd.concat(parts, ignore_index=True) if parts else data.assign(heading=[])


def _worst(data: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """At most `max_rows` checks, the inconsistent ones first, kept in their order by kind."""
    rank = data["code"].map({v: i for i, v in enumerate(DRAWN_VERDICTS)})
    kept = rank.sort_values(kind="stable").index[:max_rows]
    return data.loc[sorted(kept)].reset_index(drop=True)


def audit_figure(audit: pd.DataFrame, book: Codebook, max_rows: int = 40) -> Drawn:
    """The checks that are not consistent: printed value vs implied interval, verdict-coloured."""
    data = _worst(audit_data(audit, book), max_rows)
    rows = _rows_with_headings(data)
    n = max(len(rows), 1)
    drawn = rows[~rows["heading"]]
    ends = drawn[["implied_from", "implied_to", "printed_from", "printed_to"]].to_numpy(float)
    finite = np.append(ends[np.isfinite(ends)], 0.0)
    pad = max(finite.max() - finite.min(), 1.0) * 0.06
    left, right = finite.min() - pad, finite.max() + pad
    present = [v for v in DRAWN_VERDICTS if v in set(drawn["code"])]
    with themed():
        fig = Figure(figsize=(7.2, 1.1 + 0.25 * n), layout="constrained")  # fits an A4 page
        ax = fig.subplots()
        _draw_intervals(ax, drawn, present, (left, right))
        _label_rows(ax, rows)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(left, right)
        ax.set_xlabel("Difference from the middle of the implied interval (% of it)", fontsize=8)
        ax.grid(axis="x", color="0.92", lw=0.6)
        fig.legend(handles=_legend(present), loc="outside lower center", ncols=2, fontsize=7)
    caption, alt = _audit_text(audit, data)
    return Drawn("audit", fig, caption, alt, None)


def _draw_intervals(ax, drawn: pd.DataFrame, present: list[str], xlim: tuple[float, float]):
    """Per check: the implied interval (grey bar, clipped to the axis), the printed value's
    interval (a line) and the printed value (a marker by verdict); the zero line."""
    left, right = xlim
    y = drawn.index.to_numpy()
    implied = (drawn["implied_from"].clip(left, right), drawn["implied_to"].clip(left, right))
    ax.hlines(y, *implied, color=CONTEXT_GREY, lw=6, alpha=0.55, zorder=1)
    ax.hlines(y, drawn["printed_from"], drawn["printed_to"], color="0.15", lw=1.2, zorder=2)
    sns.scatterplot(
        data=drawn.assign(y=y),
        x="printed_at",
        y="y",
        hue="code",
        style="code",
        palette=VERDICT_COLOURS,
        markers=VERDICT_MARKERS,
        hue_order=present,
        style_order=present,
        s=45,
        edgecolor="white",
        linewidth=0.4,
        ax=ax,
        legend=False,
        zorder=3,
    )
    ax.axvline(0, color="0.3", lw=0.8, zorder=0)


def _label_rows(ax, rows: pd.DataFrame) -> None:
    """Each row's check on the left (headings in bold), its values and gap on the right."""
    ticks = [_tick_label(r) for _, r in rows.iterrows()]
    ax.set_yticks(np.arange(len(rows)), ticks, fontsize=6.5)
    ax.tick_params(axis="y", length=0)
    for tick, heading in zip(ax.get_yticklabels(), rows["heading"], strict=True):
        tick.set_fontweight("bold" if heading else "normal")
    notes = ["" if r["heading"] else _note(r) for _, r in rows.iterrows()]
    secondary = ax.secondary_yaxis("right")
    secondary.set_yticks(np.arange(len(rows)), notes, fontsize=6.5)
    secondary.tick_params(length=0)
    ax.set_ylabel("")


def _legend(present: list[str]) -> list:
    """The verdicts drawn, then the two kinds of interval."""
    handles = [
        Line2D(
            [],
            [],
            ls="none",
            marker=VERDICT_MARKERS[v],
            color=VERDICT_COLOURS[v],
            ms=6,
            label=VERDICT_LABELS[v],
        )
        for v in present
    ]
    return [
        *handles,
        Patch(color=CONTEXT_GREY, alpha=0.55, label="interval implied by the other numbers"),
        Line2D([], [], color="0.15", lw=1.2, label="interval of the printed value"),
    ]


def _tally(verdicts: pd.Series) -> str:
    """'9 inconsistent, 14 minor gap, 48 consistent, 8 not checkable'."""
    counts = verdicts.value_counts()
    return ", ".join(f"{int(counts[v])} {VERDICT_LABELS[v]}" for v in VERDICTS if v in counts)


def _audit_text(audit: pd.DataFrame, data: pd.DataFrame) -> tuple[str, str]:
    """The caption and alt text, from the same checks the figure draws."""
    flagged = int(audit["verdict"].isin(DRAWN_VERDICTS).sum())
    left_off = flagged - len(data)
    caption = (
        f"The checks of the consistency audit that are not consistent ({len(data)} of "
        f"{len(audit)} checks: {_tally(audit['verdict'])}), grouped by kind of check. The grey "
        "bar is the interval the paper's other numbers imply, with their rounding; the black bar "
        "the interval the printed value stands for; the marker the printed value, coloured and "
        "shaped by verdict. The right margin gives the printed and the implied value. Positions "
        "are differences from the middle of the implied interval (or from its one bound, for a "
        "one-sided claim) in percent of it. Every check, consistent ones included, is listed in "
        "the appendix."
        + (f" Left off for space, or without a number to draw: {left_off}." if left_off else "")
    )
    listed = "; ".join(
        f"{r.kind}, {_row_label(pd.Series(r._asdict()))}: printed {r.reported}, implied {r.implied} ({r.verdict})"
        for r in data.itertuples()
    )
    alt = (
        f"Dot-and-interval chart of the {len(data)} checks that are not consistent, grouped by "
        f"kind. {listed}."
        if listed
        else "No check of the audit is flagged: nothing to draw."
    )
    return caption, alt
