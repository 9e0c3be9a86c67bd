"""Safe parsing of loss expressions typed by users (command line, notebooks, config files).

The text is parsed by Python's :mod:`ast` into a syntax tree that is *walked*, never evaluated: only
numbers, names, the arithmetic operators ``+ - * / ** ^`` and calls of whitelisted elementary
functions are accepted, and every node is translated into a sympy object by bea's own code. There is
no ``eval``, no ``sympify`` of user text, no attribute access, no subscripts, no keyword arguments.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import sympy as sp

from .errors import InputError

__all__ = ["FUNCTIONS", "parse_loss", "parse_params"]

#: Functions a loss string may call, by name.
FUNCTIONS = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "atan": sp.atan,
    "asin": sp.asin,
    "acos": sp.acos,
    "asinh": sp.asinh,
    "erf": sp.erf,
    "sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
    "softplus": lambda u: sp.log(1 + sp.exp(u)),
}

_CONSTANTS = {"pi": sp.pi}
_NON_SMOOTH = {
    "abs",
    "Abs",
    "max",
    "min",
    "Max",
    "Min",
    "sign",
    "floor",
    "ceil",
    "ceiling",
    "relu",
    "Heaviside",
    "round",
}
_MAX_LENGTH = 20_000
_MAX_EXPONENT = 1_000
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: None,  # checked separately
}


def _number(node: ast.Constant, text: str) -> sp.Rational:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"only numbers are allowed as constants, found {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    source = ast.get_source_segment(text, node) or repr(value)
    return sp.Rational(source.replace("_", ""))  # exact decimal: '0.6' is 3/5


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if exponent.is_number and abs(exponent) > _MAX_EXPONENT:
        raise InputError(f"exponent {exponent} is too large (the limit is {_MAX_EXPONENT})")
    return base**exponent


def _check_name(name: str) -> str:
    if name.startswith("_"):
        raise InputError(
            f"name {name!r} is not allowed: names starting with '_' are never accepted"
        )
    return name


def parse_params(params: Sequence[str | sp.Symbol]) -> tuple[sp.Symbol, ...]:
    """Parameter names (strings or Symbols) as a tuple of distinct sympy Symbols.

    Parameters
    ----------
    params : sequence of str or sympy Symbol

    Returns
    -------
    tuple of sympy Symbol

    Examples
    --------
    >>> parse_params(["a", "b"])
    (a, b)
    """
    out = []
    for p in params:
        if isinstance(p, sp.Symbol):
            out.append(p)
            continue
        if not isinstance(p, str) or not p.isidentifier() or p.startswith("_"):
            raise InputError(f"parameter names must be plain identifiers, got {p!r}")
        if p in FUNCTIONS or p in _CONSTANTS:
            raise InputError(f"{p!r} is a function or constant name and cannot be a parameter")
        out.append(sp.Symbol(p))
    if not out:
        raise InputError("give at least one parameter")
    if len(set(out)) != len(out):
        raise InputError(f"a parameter is named twice in {[str(p) for p in out]}")
    return tuple(out)


def parse_loss(text: str, params: Sequence[str | sp.Symbol]) -> sp.Expr:
    """Parse a loss expression safely into sympy.

    Parameters
    ----------
    text : str
        The loss, e.g. ``"(y - a*b*x)**2/2"``. Allowed: numbers (decimals are exact), names, ``+ - *
        / ** ^``, parentheses, and calls of the functions in :data:`FUNCTIONS`; ``pi`` is π. Names
        that are not parameters become constant symbols (data, hyper-parameters).
    params : sequence of str or sympy Symbol
        The parameters; each must occur in the loss.

    Returns
    -------
    sympy expression

    Raises
    ------
    InputError
        On anything else: syntax errors, attribute access, unknown or non-smooth functions,
        names starting with ``_``, a parameter that does not occur, huge exponents.

    Examples
    --------
    >>> parse_loss("(y - a*b*x)^2/2", ["a", "b"])
    (-a*b*x + y)**2/2
    >>> parse_loss("0.6 * log(1 + exp(w))", ["w"])
    3*log(exp(w) + 1)/5
    """
    if not isinstance(text, str):
        raise InputError(f"the loss must be a string, got {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise InputError(f"the loss is longer than {_MAX_LENGTH} characters")
    params = parse_params(params)
    by_name = {p.name: p for p in params}
    try:
        # '^' means power, with the precedence of '**' (as mathematicians write it)
        source = text.strip().replace("^", "**")
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise InputError(f"cannot parse the loss {text!r}: {err.msg}") from None

    def walk(node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return _number(node, source)
        if isinstance(node, ast.Name):
            name = _check_name(node.id)
            if name in by_name:
                return by_name[name]
            if name in _CONSTANTS:
                return _CONSTANTS[name]
            if name in FUNCTIONS or name in _NON_SMOOTH:
                raise InputError(f"{name!r} is a function: call it, as in {name}(x)")
            return sp.Symbol(name)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow):
                return _power(left, right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise InputError("division by zero in the loss")
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise InputError(
                    "only calls of named elementary functions are allowed, "
                    "such as exp(x); attribute access is never accepted"
                )
            name = _check_name(node.func.id)
            if name in _NON_SMOOTH:
                raise InputError(
                    f"{name} is not smooth: backward error analysis needs a smooth loss"
                )
            if name not in FUNCTIONS:
                raise InputError(
                    f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise InputError(f"{name} takes exactly one positional argument")
            return FUNCTIONS[name](walk(node.args[0]))
        if isinstance(node, ast.Attribute):
            raise InputError("attribute access ('.') is not allowed in a loss")
        raise InputError(
            f"{type(node).__name__} is not allowed in a loss; use arithmetic, "
            f"numbers, names and elementary functions"
        )

    try:
        expr = walk(tree)
    except RecursionError:
        raise InputError("the loss is nested too deeply") from None
    missing = [p.name for p in params if p not in expr.free_symbols]
    if missing:
        raise InputError(f"parameter(s) {', '.join(missing)} do not occur in the loss {text!r}")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise InputError(f"the loss {text!r} is not finite")
    return expr
