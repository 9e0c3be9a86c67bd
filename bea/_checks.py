"""Argument checks shared by every layer: orders, symbols, the step-size symbol, exact numbers.

Each check returns the normalised value or raises :class:`~bea.errors.InputError` with one line
that names the argument and what was wrong with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import sympy as sp

from .errors import InputError

__all__ = [
    "MAX_ORDER",
    "check_order",
    "check_step_symbol",
    "check_symbols",
    "exact",
    "finite_floats",
    "hyper_parameter",
]

#: Largest truncation order a derivation accepts unless the caller raises it with ``max_order=``.
#: Work grows roughly like the number of rooted trees (order 12: 4,766 trees); order 12 on a
#: two-parameter loss takes seconds, order 20 would take hours.
MAX_ORDER = 12


def check_order(order, *, maximum: int | None = MAX_ORDER, what: str = "order") -> int:
    """A truncation order as an int in 0..maximum.

    Parameters
    ----------
    order : int
        The order asked for.
    maximum : int or None
        The largest order accepted (None: no bound).
    what : str
        The argument's name, for the message.

    Returns
    -------
    int

    Examples
    --------
    >>> check_order(3)
    3
    >>> check_order(10**9)
    Traceback (most recent call last):
    ...
    bea.errors.InputError: order 1000000000 is above the maximum 12 (the work grows about \
tenfold per order; pass max_order= to raise the bound)
    """
    if isinstance(order, bool) or not isinstance(order, int | sp.Integer):
        raise InputError(f"{what} must be a whole number >= 0, got {order!r}")
    if order < 0:
        raise InputError(f"{what} must be >= 0, got {order}")
    if maximum is not None and order > maximum:
        raise InputError(
            f"{what} {order} is above the maximum {maximum} (the work grows about tenfold per "
            "order; pass max_order= to raise the bound)"
        )
    return int(order)


def check_symbols(symbols: Iterable, what: str) -> tuple[sp.Symbol, ...]:
    """Distinct sympy Symbols (plain identifiers are accepted as names), at least one.

    Examples
    --------
    >>> check_symbols(["a", "b"], "state")
    (a, b)
    """
    out = []
    for s in symbols:
        if isinstance(s, str):
            if not s.isidentifier() or s.startswith("_"):
                raise InputError(f"{what} must be plain identifiers or sympy Symbols, got {s!r}")
            s = sp.Symbol(s)
        if not isinstance(s, sp.Symbol):
            raise InputError(f"{what} must be sympy Symbols, got {s!r}")
        out.append(s)
    if not out:
        raise InputError(f"{what} must name at least one symbol")
    if len(set(out)) != len(out):
        raise InputError(f"{what} name a symbol twice: {', '.join(map(str, out))}")
    return tuple(out)


def check_step_symbol(h, *, default: sp.Symbol | None = None) -> sp.Symbol:
    """The step-size symbol: a sympy Symbol (or ``default`` when ``h`` is None).

    Examples
    --------
    >>> check_step_symbol(None, default=sp.Symbol("h"))
    h
    """
    if h is None and default is not None:
        return default
    if not isinstance(h, sp.Symbol):
        raise InputError(f"h must be a sympy Symbol, got {h!r}")
    return h


def exact(value, what: str = "value") -> sp.Rational:
    """A finite real number as an exact Rational; floats and decimal strings by their decimal text.

    Examples
    --------
    >>> exact(0.1), exact("2.5e-3"), exact(3)
    (1/10, 1/400, 3)
    """
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{what} must be finite, got {value}")
        return sp.Rational(repr(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{what} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InputError(f"{what} must be finite, got {value!r}")
        return sp.Rational(text)
    if isinstance(value, int | sp.Rational):
        return sp.Rational(value)
    if isinstance(value, sp.Float):
        if not value.is_finite:
            raise InputError(f"{what} must be finite, got {value}")
        return sp.Rational(str(value))
    raise InputError(f"{what} must be a number, got {value!r}")


def hyper_parameter(
    value,
    name: str,
    *,
    lo=None,
    hi=None,
    lo_open: bool = False,
    hi_open: bool = True,
    reserved: Iterable[sp.Symbol] = (),
):
    """An optimizer's hyper-parameter: an exact number checked against its range, or a symbol.

    A string that reads as a number is that number (``"0.9"`` is 9/10); any other string must be
    a plain identifier and becomes a symbol; a sympy expression is kept if its symbols are free
    (an expression such as ``1 - gamma`` is allowed). Numbers outside the range, NaN, infinities
    and names in ``reserved`` (the parameters and the step size) are refused.

    Examples
    --------
    >>> hyper_parameter("0.9", "beta", lo=0, hi=1)
    9/10
    >>> hyper_parameter("beta", "beta", lo=0, hi=1)
    beta
    """
    reserved = set(reserved)
    if isinstance(value, str):
        text = value.strip()
        try:
            float(text)
        except ValueError:
            if not text.isidentifier() or text.startswith("_"):
                raise InputError(
                    f"{name} must be a number or a symbol name, got {value!r}"
                ) from None
            value = sp.Symbol(text)
        else:
            value = exact(text, name)
    elif isinstance(value, float | int) and not isinstance(value, bool):
        value = exact(value, name)
    elif isinstance(value, bool) or not isinstance(value, sp.Basic):
        raise InputError(f"{name} must be a number or a sympy symbol, got {value!r}")
    if not isinstance(value, sp.Expr) or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I):
        raise InputError(f"{name} must be a finite real number or a symbol, got {value}")
    if value.free_symbols:
        clash = value.free_symbols & reserved
        if clash:
            names = ", ".join(sorted(map(str, clash)))
            raise InputError(f"{name} uses {names}, which is already a parameter or the step size")
        return value
    if value.has(sp.Float):
        value = exact(sp.Float(value), name)
    if not value.is_real or not value.is_finite:
        raise InputError(f"{name} must be a finite real number or a symbol, got {value}")
    bad = (lo is not None and (value < lo or (lo_open and value == lo))) or (
        hi is not None and (value > hi or (hi_open and value == hi))
    )
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise InputError(f"{name} must lie in {left}{lo}, {hi}{right}, got {value}")
    return value


def finite_floats(value, what: str) -> np.ndarray:
    """``value`` as a float64 array of finite numbers, or a one-line error naming ``what``.

    Strings are refused (never parsed as numbers here), so nothing a user types is evaluated.

    Examples
    --------
    >>> finite_floats([1, 2.5], "the point")
    array([1. , 2.5])
    >>> finite_floats("1; rm", "the point")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: the point must be numbers, got '1; rm'
    """
    if isinstance(value, str | bytes) or (
        isinstance(value, list | tuple) and any(isinstance(v, str | bytes) for v in value)
    ):
        raise InputError(f"{what} must be numbers, got {str(value)[:60]!r}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be numbers, got {str(value)[:60]!r}") from None
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what} must be finite numbers")
    return array
