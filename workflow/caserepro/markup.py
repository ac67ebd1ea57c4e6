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


def attribute_text(text: object) -> str:
    """A value for a double-quoted Markdown attribute (e.g. `fig-alt="..."`): one line, with `\\`
    and `"` escaped."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace('"', '\\"')


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
