"""Safe reading of every expression a user gives bea: strings are parsed, never evaluated, and
sympy expressions get the same checks.

Strings are parsed by Python's :mod:`ast` into a syntax tree that is *walked*, never evaluated:
only numbers, names, the arithmetic operators ``+ - * / ** ^`` and calls of whitelisted elementary
functions are accepted, and every node is translated into a sympy object by bea's own code. There
is no ``eval``, no ``sympify`` of user text, no attribute access, no subscripts, no keyword
arguments. Sizes are bounded (length, nesting, exponents, the size of numbers), so that no string
a user can type makes bea run away.

Sympy expressions passed to the Python API go through :func:`as_expression`, which applies the
same rules: finite, real, smooth functions only, bounded size; floats become exact rationals.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping, Sequence

import sympy as sp

from ._checks import check_step_symbol, exact
from .errors import InputError
from .functions import CONSTANTS, FUNCTIONS, NON_SMOOTH, NON_SMOOTH_NAMES, SMOOTH_FUNCTIONS

__all__ = [
    "FUNCTIONS",
    "MAX_LENGTH",
    "as_expression",
    "as_matrix",
    "parse_expression",
    "parse_loss",
    "numeric_values",
    "parse_params",
    "prepare_loss",
]

#: Longest expression string accepted (characters).
MAX_LENGTH = 20_000
#: Largest absolute exponent in a power.
MAX_EXPONENT = 1_000
#: Largest number of decimal digits of a number met while reading an expression.
MAX_DIGITS = 2_000
#: Deepest nesting of an expression (parentheses, calls, operators).
MAX_DEPTH = 200
#: Most nodes in an expression tree.
MAX_NODES = 50_000

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}

#: The step-size symbol bea uses unless told otherwise.
H = sp.Symbol("h")


def _check_number(x: sp.Expr, what: str) -> sp.Expr:
    bits = 3.33 * MAX_DIGITS
    if x.is_Rational and (abs(x.p).bit_length() > bits or x.q.bit_length() > bits):
        raise InputError(f"a number in the {what} has more than {MAX_DIGITS} digits")
    return x


def _power(base: sp.Expr, exponent: sp.Expr, what: str) -> sp.Expr:
    if exponent.is_number:
        if not exponent.is_real or not exponent.is_finite:
            raise InputError(f"the exponent {exponent} in the {what} is not a finite real number")
        if abs(exponent) > MAX_EXPONENT:
            raise InputError(
                f"exponent {exponent} in the {what} is too large (the limit is {MAX_EXPONENT})"
            )
        if base.is_number and base.is_Rational and base != 0:
            size = abs(float(exponent)) * max(
                math.log10(max(abs(int(base.p)), 1)) if base.p else 0,
                math.log10(int(base.q)),
            )
            if size > MAX_DIGITS:
                raise InputError(
                    f"the number {base}**{exponent} in the {what} has more than {MAX_DIGITS} digits"
                )
    if base == 0 and exponent.is_number and exponent.is_negative:
        raise InputError(f"division by zero in the {what}")
    return _check_number(base**exponent, what)


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
    if isinstance(params, str | sp.Basic):
        params = [params]
    out = []
    for p in params:
        if isinstance(p, sp.Symbol):
            out.append(p)
            continue
        if not isinstance(p, str) or not p.isidentifier() or p.startswith("_"):
            raise InputError(f"parameter names must be plain identifiers, got {p!r}")
        if p in FUNCTIONS or p in CONSTANTS:
            raise InputError(f"{p!r} is a function or constant name and cannot be a parameter")
        out.append(sp.Symbol(p))
    if not out:
        raise InputError("give at least one parameter")
    if len(set(out)) != len(out):
        raise InputError(f"a parameter is named twice in {[str(p) for p in out]}")
    return tuple(out)


def parse_expression(
    text: str,
    symbols: Iterable[sp.Symbol] = (),
    *,
    what: str = "expression",
    integrals: bool = False,
) -> sp.Expr:
    """Parse an expression string safely into sympy (never evaluated as Python).

    Parameters
    ----------
    text : str
        Allowed: numbers (decimals are exact), names, ``+ - * / ** ^``, parentheses and calls of
        the functions in :data:`FUNCTIONS`; ``pi`` is π.
    symbols : iterable of sympy Symbol
        Symbols that names refer to (matched by name, so that assumptions are kept); other names
        become new symbols.
    what : str
        What the expression is, for messages (``"loss"``, ``"step map"``, …).
    integrals : bool
        Also accept ``Integral(integrand, (t, a, b))`` with numeric bounds, not nested: the
        ray integrals of potentials with no closed form, as bea writes them (read back by
        :func:`bea.load_json`). Losses and step maps never contain one.

    Returns
    -------
    sympy expression

    Raises
    ------
    InputError
        On anything else: syntax errors, attribute access, unknown or non-smooth functions,
        names starting with ``_``, huge exponents or numbers, deep nesting, too long a text.

    Examples
    --------
    >>> parse_expression("2^10 * exp(-t)")
    1024*exp(-t)
    >>> parse_expression("__import__('os')")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: name '__import__' is not allowed: names starting with '_' are never accepted
    """
    if not isinstance(text, str):
        raise InputError(f"the {what} must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise InputError(f"the {what} is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise InputError(f"the {what} is empty")
    by_name = {s.name: s for s in symbols}
    # '^' means power, with the precedence of '**' (as mathematicians write it)
    source = text.strip().replace("^", "**")
    depth = 0
    for ch in source:  # bound the nesting before Python's parser sees it
        depth += ch == "("
        depth -= ch == ")"
        if depth > MAX_DEPTH:
            raise InputError(f"the {what} is nested too deeply (more than {MAX_DEPTH} levels)")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise InputError(f"cannot parse the {what} {_short(text)}: {err.msg}") from None
    except (RecursionError, MemoryError):
        raise InputError(f"the {what} is nested too deeply") from None
    except ValueError as err:  # e.g. an integer literal beyond Python's digit limit
        raise InputError(f"cannot parse the {what}: {err}") from None
    nodes = 0
    for _ in ast.walk(tree):
        nodes += 1
        if nodes > MAX_NODES:
            raise InputError(f"the {what} has more than {MAX_NODES} parts")

    def walk(node: ast.AST, level: int) -> sp.Expr:
        if level > MAX_DEPTH:
            raise InputError(f"the {what} is nested too deeply (more than {MAX_DEPTH} levels)")
        level += 1
        if isinstance(node, ast.Expression):
            return walk(node.body, level)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"only numbers are allowed as constants, found {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"the number {value} in the {what} is not finite")
            seg = ast.get_source_segment(source, node) or repr(value)
            return _check_number(sp.Rational(seg.replace("_", "")), what)  # exact: 0.6 is 3/5
        if isinstance(node, ast.Name):
            name = _check_name(node.id)
            if name in by_name:
                return by_name[name]
            if name in CONSTANTS:
                return CONSTANTS[name]
            if name in FUNCTIONS or name in NON_SMOOTH_NAMES:
                raise InputError(f"{name!r} is a function: call it, as in {name}(x)")
            if name in ("nan", "inf", "NaN", "Inf", "oo", "zoo"):
                raise InputError(f"{name!r} is not a finite number: the {what} must be finite")
            return sp.Symbol(name)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = walk(node.operand, level)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return _power(walk(node.left, level), walk(node.right, level), what)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = walk(node.left, level), walk(node.right, level)
            if isinstance(node.op, ast.Div) and right == 0:
                raise InputError(f"division by zero in the {what}")
            return _check_number(_BINOPS[type(node.op)](left, right), what)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise InputError(
                    "only calls of named elementary functions are allowed, "
                    "such as exp(x); attribute access is never accepted"
                )
            name = _check_name(node.func.id)
            if name == "Integral" and integrals:
                return integral(node, level)
            if name in NON_SMOOTH_NAMES:
                raise InputError(
                    f"{name} is not smooth: backward error analysis needs a smooth {what}"
                )
            if name not in FUNCTIONS:
                raise InputError(
                    f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise InputError(f"{name} takes exactly one positional argument")
            return FUNCTIONS[name](walk(node.args[0], level))
        if isinstance(node, ast.Attribute):
            raise InputError(f"attribute access ('.') is not allowed in a {what}")
        raise InputError(
            f"{type(node).__name__} is not allowed in a {what}; use arithmetic, "
            f"numbers, names and elementary functions"
        )

    def integral(node: ast.Call, level: int) -> sp.Expr:
        """``Integral(integrand, (t, a, b))``: t is bound (real) inside the integrand only."""
        args = node.args
        if (
            node.keywords
            or len(args) != 2
            or not isinstance(args[1], ast.Tuple)
            or len(args[1].elts) != 3
            or not isinstance(args[1].elts[0], ast.Name)
        ):
            raise InputError(f"an Integral in the {what} must read Integral(integrand, (t, a, b))")
        if any(
            isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Integral"
            for n in ast.walk(args[0])
        ):
            raise InputError(f"nested integrals are not allowed in the {what}")
        var = sp.Symbol(_check_name(args[1].elts[0].id), real=True)
        outer = by_name.get(var.name)
        by_name[var.name] = var
        try:
            integrand = walk(args[0], level)
        finally:
            if outer is None:
                del by_name[var.name]
            else:
                by_name[var.name] = outer
        bounds = [walk(b, level) for b in args[1].elts[1:]]
        if not all(b.is_number for b in bounds):
            raise InputError(f"the bounds of an Integral in the {what} must be numbers")
        return sp.Integral(integrand, (var, *bounds))

    try:
        expr = walk(tree, 0)
    except RecursionError:
        raise InputError(f"the {what} is nested too deeply") from None
    return _finite(expr, what, text)


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def _finite(expr: sp.Expr, what: str, shown=None) -> sp.Expr:
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        text = str(shown if shown is not None else expr)
        raise InputError(f"the {what} {_short(text)} is not finite")
    if expr.has(sp.I):
        raise InputError(f"the {what} must be real, got {_short(str(expr))}")
    return expr


def as_expression(
    value, symbols: Iterable[sp.Symbol] = (), *, what: str = "expression", check: bool = True
) -> sp.Expr:
    """Any expression a user hands to bea — a string, a number or a sympy expression — checked.

    Strings go through :func:`parse_expression` (never ``sympify``, which evaluates Python);
    numbers become exact rationals; sympy expressions must be finite and real, use only smooth
    functions bea can differentiate, and stay within the size limits; their floats become exact
    rationals. With ``check=False`` (expressions built by code, such as an optimizer's step)
    strings are still parsed safely but sympy expressions are only required to be sympy
    expressions.

    Examples
    --------
    >>> import sympy as sp
    >>> t = sp.Symbol("t")
    >>> as_expression(0.5 * t**2, [t])
    t**2/2
    >>> as_expression(sp.Abs(t), [t], what="loss")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: Abs is not smooth: backward error analysis needs a smooth loss (found Abs(t))
    """
    if isinstance(value, str):
        return parse_expression(value, symbols, what=what)
    if isinstance(value, bool):
        raise InputError(f"the {what} must be an expression, got {value!r}")
    if isinstance(value, int | float):
        return exact(value, what)
    if not check and isinstance(value, sp.Expr):
        return value
    if isinstance(value, sp.MatrixBase):
        raise InputError(f"the {what} must be a scalar sympy expression, got a matrix")
    if not isinstance(value, sp.Basic):
        raise InputError(
            f"the {what} must be a sympy expression or a string, got {type(value).__name__}"
        )
    if not isinstance(value, sp.Expr) or isinstance(value, sp.MatrixBase):
        raise InputError(f"the {what} must be a scalar sympy expression, got {value!r}")
    count = 0
    for node in sp.preorder_traversal(value):
        count += 1
        if count > MAX_NODES:
            raise InputError(f"the {what} has more than {MAX_NODES} parts")
        if isinstance(node, NON_SMOOTH):
            raise InputError(
                f"{node.func.__name__} is not smooth: backward error analysis needs a smooth "
                f"{what} (found {_cut(node)})"
            )
        if node.is_Pow and node.exp.is_number:
            if not node.exp.is_real:
                raise InputError(f"the {what} must be real, got {_short(str(value))}")
            if abs(node.exp) > MAX_EXPONENT:
                raise InputError(
                    f"exponent {node.exp} in the {what} is too large (the limit is {MAX_EXPONENT})"
                )
        elif node.is_Rational:
            _check_number(node, what)
        elif isinstance(node, sp.Function) and not isinstance(node, tuple(SMOOTH_FUNCTIONS)):
            if not node.is_number:
                raise InputError(
                    f"bea cannot differentiate the function {node.func} (found {_cut(node)}); "
                    f"allowed: {', '.join(sorted(FUNCTIONS))}"
                )
        elif not (node.is_Atom or node.is_Add or node.is_Mul or node.is_Pow or node.is_Function):
            raise InputError(f"{type(node).__name__} is not allowed in a {what}: {_cut(node)}")
    value = _finite(value, what)
    floats = value.atoms(sp.Float)
    if floats:
        value = value.xreplace({f: exact(f, what) for f in floats})
    return value


def as_matrix(
    value, symbols: Iterable[sp.Symbol] = (), *, what: str = "matrix", check: bool = True
) -> sp.Matrix:
    """A matrix (or column) a user hands to bea, every entry checked by :func:`as_expression`.

    Nested lists, tuples and sympy matrices are accepted; strings in them are parsed safely
    (``sympy.Matrix`` of a string would evaluate it).

    Examples
    --------
    >>> as_matrix([["1/2", 0], [0, "t"]])
    Matrix([
    [1/2, 0],
    [  0, t]])
    >>> as_matrix(["a", "b"]).shape
    (2, 1)
    """
    if isinstance(value, str) or not hasattr(value, "__len__"):
        raise InputError(f"the {what} must be a list of entries (or of rows), got {value!r}")
    if isinstance(value, sp.MatrixBase):
        rows = value.tolist()
    else:
        rows = [list(r) if isinstance(r, list | tuple | sp.MatrixBase) else [r] for r in value]
    if len({len(r) for r in rows}) > 1:
        raise InputError(f"the rows of the {what} have different lengths")
    symbols = tuple(symbols)
    return sp.Matrix([[as_expression(e, symbols, what=what, check=check) for e in r] for r in rows])


def _cut(expr) -> str:
    text = str(expr)
    return text if len(text) <= 60 else text[:60] + "..."


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
    params = parse_params(params)
    expr = parse_expression(text, params, what="loss")
    missing = [p.name for p in params if p not in expr.free_symbols]
    if missing:
        raise InputError(
            f"parameter(s) {', '.join(missing)} do not occur in the loss {_short(text)}"
        )
    return expr


def prepare_loss(
    loss: sp.Expr | str, params: Sequence[sp.Symbol | str], h: sp.Symbol | None = None
) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol]:
    """Validate a loss and its parameters; parse strings safely; make decimals exact.

    Parameters
    ----------
    loss : sympy expression or str
        The loss (a string is read by :func:`parse_loss`; an expression is checked by
        :func:`as_expression`).
    params : sequence of sympy Symbol or str
        The parameters; each must occur in the loss.
    h : sympy Symbol, optional
        The step-size symbol (default ``h``); it must not occur in the loss or be a parameter.

    Returns
    -------
    (loss, params, h)

    Examples
    --------
    >>> prepare_loss("0.5*w**2", ["w"])
    (w**2/2, (w,), h)
    """
    params = parse_params(params)
    h = check_step_symbol(h, default=H)
    if h in params:
        raise InputError(
            f"{h} stands for the step size and cannot be a parameter; rename the parameter or "
            "pass another step-size symbol with h=..."
        )
    expr = as_expression(loss, params, what="loss")
    missing = [str(p) for p in params if p not in expr.free_symbols]
    if missing:
        raise InputError(f"parameter(s) {', '.join(missing)} do not occur in the loss {expr}")
    if h in expr.free_symbols:
        raise InputError(
            f"the loss uses the symbol {h}, which stands for the step size; rename it or pass "
            "another step-size symbol with h=..."
        )
    return expr, params, h


def numeric_values(values: Mapping | None, reserved: Iterable[sp.Symbol], what: str = "values"):
    """Numeric values of constants as ``{Symbol: Rational}``, names checked, numbers exact.

    A name that is a parameter (or the step size) is refused: giving it a value would silently
    turn a variable into a constant. Values must be finite real numbers (strings that read as
    numbers are accepted; nothing is evaluated).

    Examples
    --------
    >>> import sympy as sp
    >>> numeric_values({"x": 1, "y": "0.6"}, [sp.Symbol("a")])
    {x: 1, y: 3/5}
    """
    reserved = {s.name: s for s in reserved}
    out = {}
    for key, value in (values or {}).items():
        name = key.name if isinstance(key, sp.Symbol) else key
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise InputError(f"{what}: names must be plain identifiers, got {key!r}")
        if name in reserved:
            raise InputError(
                f"{what}: {name} is a parameter (or the step size), not a constant; it cannot be "
                "given a value"
            )
        if isinstance(value, sp.Basic) and not (value.is_Rational or value.is_Float):
            if not (value.is_number and value.is_real and value.is_finite):
                raise InputError(f"{what}: {name} must be a finite real number, got {value}")
            number = value  # an exact constant such as pi
        else:
            number = exact(value, f"the value of {name}")
        out[key if isinstance(key, sp.Symbol) else sp.Symbol(name)] = number
    return out
