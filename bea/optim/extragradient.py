"""The extragradient method (Korpelevich 1976): a look-ahead step, then a step with the gradient
at the look-ahead point."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..step import StepMap
from .base import Optimizer, gradient, substituted

__all__ = ["Extragradient"]


@dataclass(frozen=True)
class Extragradient(Optimizer):
    """Extragradient θ' = θ − h∇E(θ − h∇E(θ)).

    To first order it follows the gradient flow of E − (h/4)‖∇E‖²: its f₁ = +½H∇E has the
    opposite sign of gradient descent's, like the proximal point method it approximates.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a = sp.Symbol("a")
    >>> bea.modified_loss(a**4 / 4, [a], method=Extragradient())
    -a**6*h/4 + a**4/4
    """

    name = "extragradient"

    def step_map(self, loss, params, h):
        """θ − h∇E(θ − h∇E(θ))."""
        g = gradient(loss, params)
        ahead = [p - h * gi for p, gi in zip(params, g, strict=True)]
        new = [p - h * gi for p, gi in zip(params, substituted(g, params, ahead), strict=True)]
        return StepMap(sp.Matrix(new), tuple(params), h, self.name, loss)
