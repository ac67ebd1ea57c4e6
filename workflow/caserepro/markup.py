"""Text from the raw tables, made safe for the places it goes: Markdown (and the Quarto shortcodes
and HTML that Markdown lets through), Markdown attributes, and Typst.

Raw text is data, never markup: a complaint holding `<`, `|`, `*`, `[a](b)`, `{{< var >}}`,
backticks or backslashes must reach the reader verbatim, in HTML and in PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

#: Markdown lets a backslash escape any ASCII punctuation character, which then stands for itself.
_ASCII_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def markdown_text(text: object) -> str:
    """Inline Markdown that shows `text` as it is: every ASCII punctuation mark backslash-escaped,
    line breaks and tabs as spaces (a table cell and a sentence hold one line), runs of spaces kept
    as they are."""
    flat = re.sub(r"[\r\n\t]", " ", str(text))
    return _ASCII_PUNCTUATION.sub(r"\\\1", flat)


def expanded_text(text: object) -> str:
    """Markdown for a place where Quarto reads the text as Markdown and then expands shortcodes
    in what it read (a `_variables.yml` value, a `fig-alt` attribute): Markdown-escaped, and any
    shortcode written in Quarto's escaped form (`{{{< x >}}}` shows as `{{< x >}}`)."""
    return markdown_text(re.sub(r"\{\{<(.*?)>\}\}", r"{{{<\1>}}}", str(text)))


def attribute_text(text: object) -> str:
    """A value for a double-quoted Markdown attribute that Quarto reads as Markdown (e.g.
    `fig-alt="..."`): one line, shown verbatim, with `\\` and `"` escaped for the quotes."""
    flat = expanded_text(" ".join(str(text).split()))
    return flat.replace("\\", "\\\\").replace('"', '\\"')


def plot_text(text: object) -> str:
    """Text for a matplotlib label, shown verbatim (a pair of `$` would start mathtext)."""
    return str(text).replace("$", "\\$")


def pipe_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown pipe table of cells that are already Markdown (see `markdown_text`), every
    column aligned left (text reads best so; Typst would otherwise centre it in its figure)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(":---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def text_table(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown pipe table whose every cell is shown verbatim."""
    return pipe_table(
        [markdown_text(c) for c in header], ([markdown_text(c) for c in row] for row in rows)
    )
