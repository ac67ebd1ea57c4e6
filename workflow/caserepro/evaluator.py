"""A small, safe evaluator of formula expressions over whole columns of numbers or intervals.

An expression is parsed with `ast` and only these nodes are allowed: numbers, parameter names,
`+ - * /`, unary minus, parentheses, calls of `min`/`max` and of `log10` (the decimal logarithm,
e.g. pH = 6.1 + log10(HCO3 / (0.0307 * PCO2))). Anything else (attributes, subscripts, powers,
other calls) is refused with `ExpressionError`.

`bounds` gives the exact range of an expression over boxes of intervals, one box per row:
natural interval arithmetic is exact where each name occurs once; a name that occurs more than
once (EF = (EDV - ESV) / EDV) is fixed at each end of its interval in turn (the corners) where
the expression is monotone in it over the whole box, which the interval of its partial
derivative proves row by row. Where monotonicity cannot be proved, the row keeps the natural
interval extension: still an enclosure, possibly wider than the exact range. `log10` is
increasing, so its interval is the logarithms of its argument's ends (unbounded below where the
argument reaches 0; missing where the argument is never positive).
"""

from __future__ import annotations

import ast
import itertools
from collections import Counter

import numpy as np

#: The functions an expression may call: min and max of two or more arguments, log10 of one.
FUNCTIONS = ("min", "max", "log10")
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
#: Intervals as (lo, hi) pairs of aligned float arrays, by name.
Env = dict[str, tuple[np.ndarray, np.ndarray]]


class ExpressionError(ValueError):
    """An expression outside the whitelist, or one that does not parse."""


def parse(text: str) -> ast.expr:
    """The checked syntax tree of one expression (`ExpressionError` if outside the whitelist)."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise ExpressionError(f"{text!r} is not an expression: {error.msg}") from None
    for node in ast.walk(tree):
        _check_node(node, text)
    return tree


def _check_node(node: ast.AST, text: str) -> None:
    """Refuse a node outside the whitelist."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"{text!r}: only numbers are allowed as constants")
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _OPERATORS):
            raise ExpressionError(f"{text!r}: only + - * / are allowed")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub):
            raise ExpressionError(f"{text!r}: only unary minus is allowed")
    elif isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
            raise ExpressionError(f"{text!r}: only min(...), max(...) and log10(...) may be called")
        if node.func.id == "log10" and len(node.args) != 1:
            raise ExpressionError(f"{text!r}: log10 takes one argument")
        if node.func.id != "log10" and len(node.args) < 2:
            raise ExpressionError(f"{text!r}: min and max take at least two arguments")
    elif not isinstance(node, ast.Name | ast.Load | ast.operator | ast.unaryop):
        raise ExpressionError(f"{text!r}: {type(node).__name__} is not allowed")


def names(tree: ast.expr) -> Counter[str]:
    """How often each parameter name occurs (function names excluded)."""
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return Counter(
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in functions
    )


def values(tree: ast.expr, env: dict[str, np.ndarray]) -> np.ndarray:
    """The expression at exact values (one per row)."""
    if isinstance(tree, ast.Constant):
        return np.float64(tree.value)
    if isinstance(tree, ast.Name):
        return np.asarray(env[tree.id], dtype=np.float64)
    if isinstance(tree, ast.UnaryOp):
        return -values(tree.operand, env)
    if isinstance(tree, ast.Call) and tree.func.id == "log10":
        with np.errstate(all="ignore"):
            return np.log10(values(tree.args[0], env))
    if isinstance(tree, ast.Call):
        combine = np.minimum if tree.func.id == "min" else np.maximum
        args = [values(a, env) for a in tree.args]
        out = args[0]
        for arg in args[1:]:
            out = combine(out, arg)
        return out
    a, b = values(tree.left, env), values(tree.right, env)
    with np.errstate(all="ignore"):
        return _POINT[type(tree.op)](a, b)


_POINT = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


def natural(tree: ast.expr, env: Env) -> tuple[np.ndarray, np.ndarray]:
    """Natural interval extension: each operation on intervals (exact if each name occurs once)."""
    if isinstance(tree, ast.Constant):
        c = np.float64(tree.value)
        return c, c
    if isinstance(tree, ast.Name):
        lo, hi = env[tree.id]
        return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    if isinstance(tree, ast.UnaryOp):
        lo, hi = natural(tree.operand, env)
        return -hi, -lo
    if isinstance(tree, ast.Call) and tree.func.id == "log10":
        return _log10(*natural(tree.args[0], env))
    if isinstance(tree, ast.Call):
        combine = np.minimum if tree.func.id == "min" else np.maximum
        ends = [natural(a, env) for a in tree.args]
        lo, hi = ends[0]
        for a_lo, a_hi in ends[1:]:
            lo, hi = combine(lo, a_lo), combine(hi, a_hi)
        return lo, hi
    (a_lo, a_hi), (b_lo, b_hi) = natural(tree.left, env), natural(tree.right, env)
    with np.errstate(all="ignore"):
        if isinstance(tree.op, ast.Add):
            return a_lo + b_lo, a_hi + b_hi
        if isinstance(tree.op, ast.Sub):
            return a_lo - b_hi, a_hi - b_lo
        if isinstance(tree.op, ast.Div):
            spans_zero = (b_lo <= 0) & (b_hi >= 0)
            lo, hi = _product(a_lo, a_hi, 1 / b_hi, 1 / b_lo)
            missing = np.isnan(lo) | np.isnan(hi)
            return (
                np.where(spans_zero & ~missing, -np.inf, lo),
                np.where(spans_zero & ~missing, np.inf, hi),
            )
        return _product(a_lo, a_hi, b_lo, b_hi)


def _log10(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log10 of [lo, hi] (increasing): from -inf where lo <= 0; missing where hi <= 0."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    defined = (hi > 0) & ~np.isnan(lo)  # (a missing end gives a missing result)
    with np.errstate(all="ignore"):
        low = np.where(lo > 0, np.log10(lo), -np.inf)
        return np.where(defined, low, np.nan), np.where(defined, np.log10(hi), np.nan)


def _product(a_lo, a_hi, b_lo, b_hi) -> tuple[np.ndarray, np.ndarray]:
    """[a] x [b]: the smallest and largest of the four products of ends."""
    products = [a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi]
    lo, hi = products[0], products[0]
    for p in products[1:]:
        lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    return lo, hi


def derivative(tree: ast.expr, name: str) -> ast.expr | None:
    """The partial derivative by `name` as a tree (None for min/max: not differentiable)."""
    if isinstance(tree, ast.Constant):
        return ast.Constant(0.0)
    if isinstance(tree, ast.Name):
        return ast.Constant(1.0 if tree.id == name else 0.0)
    if isinstance(tree, ast.Call) and tree.func.id == "log10":  # u' / (u ln 10)
        (u,) = tree.args
        du = derivative(u, name)
        if du is None:
            return None
        return ast.BinOp(du, ast.Div(), ast.BinOp(u, ast.Mult(), ast.Constant(np.log(10.0))))
    if isinstance(tree, ast.Call):
        return None
    if isinstance(tree, ast.UnaryOp):
        d = derivative(tree.operand, name)
        return None if d is None else ast.UnaryOp(ast.USub(), d)
    da, db = derivative(tree.left, name), derivative(tree.right, name)
    if da is None or db is None:
        return None
    a, b = tree.left, tree.right
    if isinstance(tree.op, ast.Add | ast.Sub):
        return ast.BinOp(da, tree.op, db)
    if isinstance(tree.op, ast.Mult):  # a'b + ab'
        return ast.BinOp(ast.BinOp(da, ast.Mult(), b), ast.Add(), ast.BinOp(a, ast.Mult(), db))
    # (a'b - ab') / (b b)
    top = ast.BinOp(ast.BinOp(da, ast.Mult(), b), ast.Sub(), ast.BinOp(a, ast.Mult(), db))
    return ast.BinOp(top, ast.Div(), ast.BinOp(b, ast.Mult(), b))


def _monotone(tree: ast.expr, name: str, env: Env) -> np.ndarray:
    """True on rows where the expression is proved monotone in `name` over the whole box."""
    d = derivative(tree, name)
    if d is None:
        return np.zeros(np.broadcast(*[end for ends in env.values() for end in ends]).shape, bool)
    lo, hi = natural(d, env)
    return (lo >= 0) | (hi <= 0)


def exact_rows(tree: ast.expr, env: Env) -> np.ndarray | bool:
    """True on rows where `bounds` is the exact range: every repeated name proved monotone."""
    repeated = [n for n, count in names(tree).items() if count > 1]
    if not repeated:
        return True
    return np.logical_and.reduce([_monotone(tree, n, env) for n in repeated])


def bounds(tree: ast.expr, env: Env) -> tuple[np.ndarray, np.ndarray]:
    """The exact range of the expression over each row's box of intervals (see the module doc).

    A missing (NaN) end of any input gives a missing result.
    """
    repeated = sorted(n for n, count in names(tree).items() if count > 1)
    lo, hi = natural(tree, env)
    if not repeated:
        return lo, hi
    proved = exact_rows(tree, env)
    corner_lo, corner_hi = np.inf, -np.inf
    for ends in itertools.product((0, 1), repeat=len(repeated)):
        fixed = {n: (env[n][end], env[n][end]) for n, end in zip(repeated, ends, strict=True)}
        c_lo, c_hi = natural(tree, env | fixed)
        corner_lo, corner_hi = np.fmin(corner_lo, c_lo), np.fmax(corner_hi, c_hi)
    missing = np.isnan(lo) | np.isnan(hi)
    lo = np.where(proved & ~missing, corner_lo, lo)
    hi = np.where(proved & ~missing, corner_hi, hi)
    return lo, hi


def solve(left: ast.expr, right: ast.expr, name: str) -> ast.expr | None:
    """`name` in terms of the other names, from `left = right` (None unless it occurs exactly once,
    outside min/max)."""
    if names(left)[name] + names(right)[name] != 1:
        return None
    if names(left)[name]:
        left, right = right, left
    while not (isinstance(right, ast.Name) and right.id == name):
        if isinstance(right, ast.UnaryOp):
            left, right = ast.UnaryOp(ast.USub(), left), right.operand
            continue
        if not isinstance(right, ast.BinOp):
            return None
        a, b, op = right.left, right.right, right.op
        in_a = names(a)[name] > 0
        if isinstance(op, ast.Add):
            left, right = ast.BinOp(left, ast.Sub(), b if in_a else a), a if in_a else b
        elif isinstance(op, ast.Mult):
            left, right = ast.BinOp(left, ast.Div(), b if in_a else a), a if in_a else b
        elif isinstance(op, ast.Sub):  # a - b = L: a = L + b, b = a - L
            left, right = (
                (ast.BinOp(left, ast.Add(), b), a) if in_a else (ast.BinOp(a, op, left), b)
            )
        else:  # a / b = L: a = L * b, b = a / L
            left, right = (
                (ast.BinOp(left, ast.Mult(), b), a) if in_a else (ast.BinOp(a, op, left), b)
            )
    return left
