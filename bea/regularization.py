"""The paper's quantities: the implicit gradient regularizer R_IG and its rate λ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .parsing import prepare_loss

__all__ = ["IGR", "igr"]


@dataclass(frozen=True)
class IGR:
    """Implicit gradient regularization of a loss (Barrett & Dherin, ICLR 2021, eqs. 2–3).

    Attributes
    ----------
    loss : sympy expression
        E.
    params : tuple of sympy Symbol
        θ ∈ ℝ^m.
    h : sympy Symbol
        The learning rate.
    R : sympy expression
        R_IG = (1/m) Σᵢ (∂E/∂θᵢ)².
    lam : sympy expression
        λ = h m / 4.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, b = sp.symbols("a b")
    >>> r = bea.igr(a * b, [a, b])
    >>> r.R, r.lam
    (a**2/2 + b**2/2, h/2)
    """

    loss: sp.Expr
    params: tuple[sp.Symbol, ...]
    h: sp.Symbol
    R: sp.Expr
    lam: sp.Expr

    @property
    def m(self) -> int:
        """Number of parameters."""
        return len(self.params)

    @property
    def modified_loss(self) -> sp.Expr:
        """E + λ R_IG, the order-1 modified loss of gradient descent."""
        return self.loss + self.lam * self.R


def igr(
    loss: sp.Expr | str, params: Sequence[sp.Symbol | str], *, h: sp.Symbol | None = None
) -> IGR:
    """The implicit gradient regularizer R_IG and rate λ of a loss.

    Parameters
    ----------
    loss : sympy expression or str
        E(θ).
    params : sequence of sympy Symbol or str
        θ.
    h : sympy Symbol, optional
        Learning-rate symbol (default ``h``).

    Returns
    -------
    IGR

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, b, x, y = sp.symbols("a b x y")
    >>> sp.factor(bea.igr((y - a*b*x)**2 / 2, [a, b]).R)
    x**2*(a**2 + b**2)*(a*b*x - y)**2/2
    """
    loss, params, h = prepare_loss(loss, params, h)
    m = len(params)
    R = sum((sp.diff(loss, p) ** 2 for p in params), sp.Integer(0)) / m
    return IGR(loss, params, h, R, h * sp.Integer(m) / 4)
