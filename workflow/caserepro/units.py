"""Units as printed converted to the data dictionary's unit (pint), once per distinct pair."""

from __future__ import annotations

import re
from functools import cache

import pint

#: Printed forms pint does not read, and what they mean in its syntax.
_SPELLINGS = [
    (re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+"), lambda m: "**" + m.group().translate(_SUPERSCRIPTS)),
    (re.compile(r"\^"), lambda m: "**"),
    (re.compile("[×·]"), lambda m: "*"),
    (re.compile("[μµ]"), lambda m: "u"),
]
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
#: Units the clinical literature prints that pint does not define.
_DEFINITIONS = ("beat = 1 = beats", "bpm = beat / minute")


_UNREADABLE = (pint.errors.PintError, AttributeError, TypeError, ValueError, AssertionError)


@cache
def _registry() -> pint.UnitRegistry:
    registry = pint.UnitRegistry()
    for definition in _DEFINITIONS:
        registry.define(definition)
    return registry


def _spelled(unit: str) -> str:
    for pattern, replace in _SPELLINGS:
        unit = pattern.sub(replace, unit)
    return unit


@cache
def conversion(given: str, wanted: str) -> tuple[float, float] | None:
    """(scale, offset) with value in `wanted` = scale * value in `given` + offset; (1, 0) for the
    same text; None when pint cannot read either unit or they measure different things."""
    if given == wanted:
        return 1.0, 0.0
    registry = _registry()
    try:
        zero = registry.Quantity(0.0, _spelled(given)).to(_spelled(wanted)).magnitude
        one = registry.Quantity(1.0, _spelled(given)).to(_spelled(wanted)).magnitude
    except _UNREADABLE:
        # A unit with a numeric factor ("10^9/L") is an expression, not a unit, for pint.
        try:
            ratio = registry.parse_expression(_spelled(given)) / registry.parse_expression(
                _spelled(wanted)
            )
            zero, one = 0.0, float(ratio.to("dimensionless").magnitude)
        except _UNREADABLE:
            return None
    return float(round(one - zero, 12)), float(round(zero, 12))
