"""Gradient descent θ ← θ − h∇E(θ): explicit Euler on the gradient flow θ̇ = −∇E."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from .base import StepMap

__all__ = ["gradient_descent"]


def gradient_descent(loss: sp.Expr, params: Sequence[sp.Symbol], h: sp.Symbol) -> StepMap:
    """The gradient-descent step map θ − h∇E(θ).

    Parameters
    ----------
    loss : sympy expression
        The loss E.
    params : sequence of sympy Symbol
        The parameters θ.
    h : sympy Symbol
        The learning rate.

    Returns
    -------
    StepMap

    Examples
    --------
    >>> import sympy as sp
    >>> a, b, h = sp.symbols("a b h")
    >>> gradient_descent(a * b, (a, b), h).step.T
    Matrix([[a - b*h, -a*h + b]])
    """
    theta = sp.Matrix(params)
    grad = sp.Matrix([sp.diff(loss, p) for p in params])
    return StepMap(theta - h * grad, tuple(params), h, "gd", loss)
