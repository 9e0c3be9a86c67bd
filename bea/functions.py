"""The one table of elementary functions: what a loss may call, what the exact ring
differentiates, and what bea refuses as not smooth.

The parser (:mod:`bea.parsing`) accepts exactly the names of :data:`FUNCTIONS`; the ring
(:mod:`bea.diffring`) differentiates exactly the functions of :data:`SMOOTH_FUNCTIONS`; both read
them from here.

>>> sorted(FUNCTIONS)[:4]
['acos', 'asin', 'asinh', 'atan']
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

__all__ = [
    "CONSTANTS",
    "ELEMENTARY",
    "FUNCTIONS",
    "NON_SMOOTH",
    "NON_SMOOTH_NAMES",
    "SELF",
    "SMOOTH_FUNCTIONS",
]

#: Functions bea refuses because they are not smooth (backward error analysis needs derivatives).
NON_SMOOTH = (
    sp.Abs,
    sp.sign,
    sp.Heaviside,
    sp.Max,
    sp.Min,
    sp.floor,
    sp.ceiling,
    sp.frac,
    sp.Piecewise,
    sp.DiracDelta,
)
#: Names of non-smooth functions a user may type (refused with the reason).
NON_SMOOTH_NAMES = frozenset(
    {"abs", "max", "min", "ceil", "relu", "round"}
    | {f.__name__ for f in NON_SMOOTH}
    | {f.__name__.lower() for f in NON_SMOOTH}
)

_Rule = Callable[[sp.Expr], sp.Expr]

#: For an atom A = F(u), the rules give dA/du with sympy expressions; ``SELF`` stands for A itself,
#: so that a rule never asks for a new atom when A's own value will do (exp, tan, tanh, powers).
SELF = sp.Symbol("__bea_self__")

#: The one table of elementary functions: name in a loss string → (sympy function, rule giving
#: dF(u)/du, where ``SELF`` means F(u) itself). The parser accepts these names; the ring
#: differentiates these functions.
ELEMENTARY: dict[str, tuple[type, _Rule]] = {
    "exp": (sp.exp, lambda u: SELF),
    "log": (sp.log, lambda u: 1 / u),
    "sin": (sp.sin, lambda u: sp.cos(u)),
    "cos": (sp.cos, lambda u: -sp.sin(u)),
    "tan": (sp.tan, lambda u: 1 + SELF**2),
    "tanh": (sp.tanh, lambda u: 1 - SELF**2),
    "sinh": (sp.sinh, lambda u: sp.cosh(u)),
    "cosh": (sp.cosh, lambda u: sp.sinh(u)),
    "atan": (sp.atan, lambda u: 1 / (1 + u**2)),
    "asin": (sp.asin, lambda u: 1 / sp.sqrt(1 - u**2)),
    "acos": (sp.acos, lambda u: -1 / sp.sqrt(1 - u**2)),
    "asinh": (sp.asinh, lambda u: 1 / sp.sqrt(1 + u**2)),
    "erf": (sp.erf, lambda u: 2 / sp.sqrt(sp.pi) * sp.exp(-(u**2))),
}

#: Derivative rules by sympy function (the ring's view of :data:`ELEMENTARY`).
SMOOTH_FUNCTIONS: dict[type, _Rule] = {cls: rule for cls, rule in ELEMENTARY.values()}

#: Every function name a loss string may call: the elementary functions and a few compositions
#: of them (which the ring sees as their parts).
FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    **{name: cls for name, (cls, _) in ELEMENTARY.items()},
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
    "softplus": lambda u: sp.log(1 + sp.exp(u)),
}

#: Named constants of a loss string.
CONSTANTS = {"pi": sp.pi}
