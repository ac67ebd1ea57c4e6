"""One look for every figure (seaborn theme, colour-blind-safe palette) and byte-stable saving.

Every figure function draws inside `themed()`, so no global matplotlib state leaks between
figures or tests; `save_figure` writes SVG and PNG without timestamps or version strings, with a
fixed SVG hash salt, so the same data give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.figure import Figure

from caserepro.io import write_bytes

#: seaborn's colour-blind-safe qualitative palette (Okabe-Ito-like), used by every figure.
PALETTE_NAME = "colorblind"
PALETTE: list[str] = sns.color_palette(PALETTE_NAME).as_hex()
#: Light grey for context marks (reference bands, infusion lines).
CONTEXT_GREY = PALETTE[7]

#: Written into SVG metadata instead of matplotlib's version; PNG gets no Software entry at all.
CREATOR = "caserepro"
#: Fixed salt for the ids matplotlib writes into SVG (clip paths, glyphs).
SVG_HASH_SALT = "caserepro"
DEFAULT_DPI = 200


def theme_rc(font_scale: float = 1.0) -> dict[str, object]:
    """The rcParams of the shared theme: seaborn 'ticks' style, 'paper' context, colour-blind cycle."""
    rc: dict[str, object] = {}
    rc.update(sns.axes_style("ticks"))
    rc.update(sns.plotting_context("paper", font_scale=font_scale))
    rc.update(
        {
            "axes.prop_cycle": mpl.cycler(color=PALETTE),
            "font.family": "DejaVu Sans",
            "axes.titleweight": "bold",
            "axes.titlesize": 9 * font_scale,
            "axes.labelsize": 8.5 * font_scale,
            "legend.frameon": False,
            "svg.hashsalt": SVG_HASH_SALT,
            "svg.fonttype": "path",
            "path.simplify": False,
            "savefig.bbox": "tight",
            "savefig.pad_inches": 0.05,
            "figure.dpi": 100,
        }
    )
    return rc


@contextmanager
def themed(font_scale: float = 1.0) -> Iterator[None]:
    """Draw inside this context to get the shared theme without touching global state."""
    with mpl.rc_context(theme_rc(font_scale)):
        yield


def figure_bytes(fig: Figure, fmt: str, dpi: int = DEFAULT_DPI) -> bytes:
    """The figure as SVG or PNG bytes, with no date, no software version, a fixed SVG salt."""
    metadata = {"svg": {"Date": None, "Creator": CREATOR}, "png": {"Software": None}}[fmt]
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def save_figure(fig: Figure, svg: str | Path, png: str | Path, dpi: int = DEFAULT_DPI) -> None:
    """Save one figure as SVG and PNG, deterministically."""
    write_bytes(svg, figure_bytes(fig, "svg", dpi))
    write_bytes(png, figure_bytes(fig, "png", dpi))
