"""Named models used by examples, tests, figures and the command line (one definition each)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["MODELS", "TwoParameter"]

_a, _b, _x, _y = sp.symbols("a b x y")


@dataclass(frozen=True)
class TwoParameter:
    """The paper's two-parameter model E(a, b) = (y − abx)²/2 (Barrett & Dherin 2021, Section 4).

    Parameters
    ----------
    x, y : number
        Data (exact: decimals are read as fractions). Defaults x = 1, y = 0.6.

    Examples
    --------
    >>> m = TwoParameter()
    >>> m.loss, m.params, m.start
    ((-a*b + 3/5)**2/2, (a, b), (2.8, 3.5))
    """

    x: float = 1
    y: float = 0.6

    @property
    def params(self) -> tuple[sp.Symbol, sp.Symbol]:
        """The parameters (a, b)."""
        return (_a, _b)

    @property
    def symbolic_loss(self) -> sp.Expr:
        """E with the data x, y left as symbols."""
        return (_y - _a * _b * _x) ** 2 / 2

    @property
    def values(self) -> dict[sp.Symbol, sp.Rational]:
        """The data as exact rationals."""
        return {_x: sp.Rational(str(self.x)), _y: sp.Rational(str(self.y))}

    @property
    def loss(self) -> sp.Expr:
        """E with the data substituted exactly."""
        return self.symbolic_loss.xreplace(self.values)

    @property
    def start(self) -> tuple[float, float]:
        """The paper's starting point (2.8, 3.5)."""
        return (2.8, 3.5)


#: Named models for ``--model`` on the command line.
MODELS = {"two-parameter": TwoParameter}
