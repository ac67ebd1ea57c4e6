"""Formulas as data: the identities of `data/raw/formulas.csv`, parsed and unit-checked.

One row per identity (a check of the audit): `check` (its code), `expression`, `scope`, `soft`,
`citation` (a key of manuscript/references.bib, blank for an arithmetic identity), and the
check's `label` and one-line `explanation` for readers. These checks are named here and only
here; checks.csv names the audit's other checks (`check_names` joins the two).

`expression` is a chain of sides joined by `=`. The first side is a parameter of the data
dictionary: the quantity the identity is about, whose unit every side is converted to. The last
two sides are compared: `lvef = (lv_edv - lv_esv) / lv_edv` compares the printed LVEF with the
volumes' ratio; `bsa = stroke_volume / stroke_volume_index = cardiac_output / cardiac_index`
compares the two estimates of body-surface area. Sides are whitelisted expressions
(`caserepro.evaluator`). Units come from the dictionary: `pint` checks that every side has the
quantity's dimension and supplies the factor (mL x bpm -> L/min is 0.001; a ratio -> % is 100),
so no conversion factor is typed anywhere. A formula whose units do not agree is refused with
`FormulaError` naming the row. A side may use the constants of `constants.csv` by name, each
with its value and unit (the solubility of CO2 in plasma, 0.0307 mmol/L per mmHg): their units
take part in the check, and the evaluated trees hold their values. `log10` takes a pure number
(its argument's units must cancel exactly, factor 1) and gives one.

Scopes: `examination` (the sides at one examination: case, timepoint, modality, method,
source); `scan` (the quantity across the methods of one scan); `case` (the quantity across a
case's scans of one series, each against the one before); `visits` (the quantity implied at a
scan against the values printed at the case's other timepoints whose months overlap the scan's).
For the last three the expression is the quantity alone, implied at each examination by every
examination identity that contains it once (solved for it).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
import pint

from caserepro import evaluator
from caserepro.intervals import printed_number

SCOPES = ("examination", "scan", "case", "visits")
#: Dictionary unit texts that pint spells differently.
_UNIT_SPELLING = {"²": "**2", "%": "percent", "10^9": "1e9", "10^12": "1e12", "10^6 ": "1e6 "}
#: Digits kept of a conversion factor (pint's floats carry rounding noise: 1000.0000000000001).
_FACTOR_DIGITS = 12


class FormulaError(ValueError):
    """A formula that cannot be used: bad syntax, unknown parameter, or units that disagree."""


@dataclass(frozen=True)
class Side:
    """One side of an identity: its text, tree, and factor to the quantity's unit."""

    text: str
    tree: ast.expr
    factor: float

    @property
    def names(self) -> list[str]:
        """Parameter names, in order of first occurrence."""
        return list(evaluator.names(self.tree))


@dataclass(frozen=True)
class Formula:
    """One identity of formulas.csv (see the module docstring)."""

    check: str
    quantity: str
    sides: tuple[Side, ...]
    scope: str
    soft: bool
    citation: str
    label: str
    units: dict[str, pint.Unit]
    unit: str = ""
    #: The values of the constants its sides name (constants.csv), in their own units.
    constants: dict[str, float] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        """The dictionary parameters its sides name, sorted (the constants left out)."""
        return sorted(n for n in self.units if n not in self.constants)

    @property
    def reported(self) -> Side:
        return self.sides[-2]

    @property
    def expected(self) -> Side:
        return self.sides[-1]


@cache
def registry() -> pint.UnitRegistry:
    """pint's units, plus the clinical ones the dictionary uses."""
    units = pint.UnitRegistry()
    units.define("bpm = 1 / minute")
    for word in ("pts", "class", "grade", "cells", "pH"):
        units.define(f"{word} = [] ")
    return units


def unit(text: str) -> pint.Unit:
    """A dictionary unit as pint's unit (`FormulaError` if pint cannot read it)."""
    spelled = str(text)
    for old, new in _UNIT_SPELLING.items():
        spelled = spelled.replace(old, new)
    try:
        return registry().parse_expression(spelled).units
    except Exception as error:  # pint raises several kinds
        raise FormulaError(f"unit {text!r} is not understood by pint ({error})") from None


def side_factor(tree: ast.expr, units: dict[str, pint.Unit], target: pint.Unit) -> float:
    """The factor that converts the side's value (inputs in their units) to `target` units."""
    value = registry().Quantity(1.0, _unit_of(tree, units))
    if value.dimensionality != registry().Quantity(1.0, target).dimensionality:
        raise FormulaError(
            f"is in {value.units:~P} ({value.dimensionality}), not in the quantity's unit "
            f"{target:~P} ({registry().Quantity(1.0, target).dimensionality})"
        )
    return float(f"{value.to(target).magnitude:.{_FACTOR_DIGITS}g}")


def _unit_of(tree: ast.expr, units: dict[str, pint.Unit]) -> pint.Unit:
    """The unit of a side's value; the terms of a sum or min/max must share one unit."""
    if isinstance(tree, ast.Constant):
        return registry().dimensionless
    if isinstance(tree, ast.Name):
        return units[tree.id]
    if isinstance(tree, ast.UnaryOp):
        return _unit_of(tree.operand, units)
    if isinstance(tree, ast.Call) and tree.func.id == "log10":
        inner = registry().Quantity(1.0, _unit_of(tree.args[0], units))
        if not inner.dimensionless or abs(inner.to("dimensionless").magnitude - 1) > 1e-12:
            raise FormulaError(
                f"takes log10 of {inner.units:~P}: its argument must be a pure number"
                f" (units that cancel exactly)"
            )
        return registry().dimensionless
    terms = tree.args if isinstance(tree, ast.Call) else [tree.left, tree.right]
    found = [_unit_of(term, units) for term in terms]
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        return found[0] * found[1]
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div):
        return found[0] / found[1]
    if not all(_interchangeable(u, found[0]) for u in found[1:]):  # + - min max
        shown = " and ".join(f"{u:~}" or "a number" for u in found)
        raise FormulaError(f"adds or compares {shown}: terms must share one unit")
    return found[0]


def with_values(tree: ast.expr, constants: dict[str, float]) -> ast.expr:
    """The tree with each constant's name replaced by its value (in the constant's unit)."""

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return ast.Constant(constants[node.id]) if node.id in constants else node

    return Substitute().visit(copy.deepcopy(tree))


def _interchangeable(a: pint.Unit, b: pint.Unit) -> bool:
    """Whether a value in `a` is the same number in `b` (pH and a pure number; not mL and L)."""
    one = registry().Quantity(1.0, a)
    if one.dimensionality != registry().Quantity(1.0, b).dimensionality:
        return False
    return abs(one.to(b).magnitude - 1) <= 1e-12


def parse_formula(
    row: dict,
    units: dict[str, pint.Unit],
    unit_texts: dict[str, str],
    constants: dict[str, float] | None = None,
) -> Formula:
    """One row of formulas.csv as a Formula (`FormulaError` naming the problem); `units` holds
    the parameters' and the constants' units, `constants` the constants' values."""
    constants = constants or {}
    texts = [text.strip() for text in str(row["expression"]).split("=")]
    if len(texts) < 2 and row["scope"] == "examination":
        raise FormulaError("an examination identity needs at least two sides joined by '='")
    trees = [evaluator.parse(text) for text in texts]
    if not isinstance(trees[0], ast.Name):
        raise FormulaError(f"the first side {texts[0]!r} must be one parameter (the quantity)")
    unknown = sorted({n for t in trees for n in evaluator.names(t)} - set(units))
    if unknown:
        raise FormulaError(f"{', '.join(unknown)} not in the data dictionary or constants.csv")
    if trees[0].id in constants:
        raise FormulaError(f"the quantity {texts[0]!r} is a constant, not a parameter")
    target = units[trees[0].id]
    sides = []
    for text, tree in zip(texts, trees, strict=True):
        try:
            factor = side_factor(tree, units, target)
        except FormulaError as error:
            raise FormulaError(f"side {text!r} {error}") from None
        sides.append(Side(text, with_values(tree, constants), factor))
    return Formula(
        check=str(row["check"]),
        quantity=trees[0].id,
        sides=tuple(sides),
        scope=str(row["scope"]),
        soft=str(row["soft"]).strip().lower() == "true",
        citation="" if pd.isna(row["citation"]) else str(row["citation"]),
        label=str(row["label"]),
        units=units,
        unit=unit_texts[trees[0].id],
        constants=constants,
    )


def load(
    formulas: pd.DataFrame, dictionary: pd.DataFrame, constants: pd.DataFrame | None = None
) -> tuple[Formula, ...]:
    """Every formula of the table, checked against the dictionary's and the constants' units,
    in table order.

    Raises FormulaError naming the file, the row (line of formulas.csv) and the check.
    """
    units_of = dict(zip(dictionary["parameter"].astype(str), dictionary["unit"], strict=True))
    values = constant_values(constants, set(units_of))
    units_of |= {name: str(unit) for name, (_, unit) in values.items()}
    numbers = {name: value for name, (value, _) in values.items()}
    out = []
    for position, row in enumerate(formulas.to_dict("records")):
        where = f"formulas.csv line {position + 2} (check {row['check']!r})"
        try:
            names = {
                n
                for side in str(row["expression"]).split("=")
                for n in evaluator.names(evaluator.parse(side))
            }
            units = {n: unit(units_of[n]) for n in names if n in units_of}
            used = {n: v for n, v in numbers.items() if n in names}
            out.append(parse_formula(row, units, units_of, used))
        except (FormulaError, evaluator.ExpressionError) as error:
            raise FormulaError(f"{where}: {error}") from None
    return tuple(out)


def constant_values(
    constants: pd.DataFrame | None, parameters: set[str]
) -> dict[str, tuple[float, str]]:
    """constants.csv as {name: (value, unit)}; a constant named like a parameter of the
    dictionary is refused (one meaning per name)."""
    if constants is None or constants.empty:
        return {}
    out = {}
    for position, row in enumerate(constants.to_dict("records")):
        name = str(row["constant"])
        if name in parameters:
            raise FormulaError(
                f"constants.csv line {position + 2}: {name!r} is also a parameter of the data "
                "dictionary; name the constant differently"
            )
        out[name] = (float(printed_number(pd.Series([row["value"]])).iloc[0]), str(row["unit"]))
    return out


def implied_by(formulas: tuple[Formula, ...], quantity: str) -> list[tuple[str, Side]]:
    """How the examination identities give `quantity`: (check, side solved for it), in table
    order; a side's factor converts to the quantity's unit (pint, from the solved units)."""
    out = []
    for formula in formulas:
        if formula.scope != "examination":
            continue
        first = formula.sides[0]
        for side in formula.sides[1:]:
            named = evaluator.parse(side.text)  # the constants by name, as their units need
            solved = (
                named
                if formula.quantity == quantity
                else evaluator.solve(first.tree, named, quantity)
            )
            if solved is None or quantity not in formula.units:
                continue
            factor = side_factor(solved, formula.units, formula.units[quantity])
            evaluable = with_values(solved, formula.constants)
            out.append((formula.check, Side(ast.unparse(solved), evaluable, factor)))
    return out


def check_names(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every check's reader-facing label and explanation: formulas.csv's checks, then
    checks.csv's; a check named in both is an error (one place per name)."""
    columns = ["check", "label", "explanation"]
    both = sorted(set(tables["formulas"]["check"]) & set(tables["checks"]["check"]))
    if both:
        raise FormulaError(
            f"{', '.join(both)} named in both formulas.csv and checks.csv: a formula's check "
            "is named in formulas.csv only"
        )
    return pd.concat([tables["formulas"][columns], tables["checks"][columns]], ignore_index=True)
