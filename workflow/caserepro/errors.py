"""One readable report for every problem found in the raw data (file, row, column, check, value)."""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Longest value shown in a report line; longer values are cut with an ellipsis.
VALUE_LIMIT = 80


def shorten(value: str, limit: int = VALUE_LIMIT) -> str:
    """The value itself, or its start and an ellipsis when it would swamp the report line."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place in one raw file; `line` is the 1-based line in the file."""

    file: str
    line: int | None
    column: str | None
    check: str
    value: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "whole file"
        column = f"column '{self.column}'" if self.column else "(table)"
        return f"{self.file}, {where}, {column}: check '{self.check}' failed for value {self.value}"


class RawDataError(Exception):
    """Raised when raw data break the schema; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem], folder: str | None = None):
        self.problems = sorted(
            problems, key=lambda p: (p.file, p.line if p.line is not None else 0, p.column or "")
        )
        folders = sorted({os.path.dirname(p.file) for p in self.problems})
        self.folder = folder or (folders[0] if len(folders) == 1 and folders[0] else None)
        super().__init__(self.report())

    def report(self) -> str:
        """The whole report as text: a heading, one line per problem, and a count."""
        lines = ["Raw data failed validation; nothing was written.", ""]
        lines += [f"  - {p}" for p in self.problems]
        lines += [
            "",
            f"{len(self.problems)} problem(s). Fix {self.folder or 'the raw tables'} "
            "(an explicit commit) and rerun.",
        ]
        return "\n".join(lines)
