"""Gradient descent, its implicit twin (the proximal point method) and L2 weight decay."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._checks import hyper_parameter
from ..errors import InputError
from ..step import ImplicitStep, StepMap
from .base import Optimizer, gradient, shifted, substituted

__all__ = ["GD", "ProximalPoint", "WeightDecay"]


@dataclass(frozen=True)
class GD(Optimizer):
    """Gradient descent θ ← θ − h∇E(θ): explicit Euler on the gradient flow θ̇ = −∇E.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a = sp.Symbol("a")
    >>> bea.modified_loss(a**4 / 4, [a], method=GD())
    a**6*h/4 + a**4/4
    """

    name = "gd"

    def step_map(self, loss, params, h):
        """θ − h∇E(θ).

        Examples
        --------
        >>> import sympy as sp
        >>> a, b, h = sp.symbols("a b h")
        >>> GD().step_map(a * b, (a, b), h).step.T
        Matrix([[a - b*h, -a*h + b]])
        """
        new = [p - h * g for p, g in zip(params, gradient(loss, params), strict=True)]
        return StepMap(sp.Matrix(new), tuple(params), h, self.name, loss)


@dataclass(frozen=True)
class ProximalPoint(Optimizer):
    """Implicit gradient descent θ' = θ − h∇E(θ') (implicit Euler); its first-order modified loss
    is E − (h/4)‖∇E‖²: the sign of the implicit regularizer flips.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a = sp.Symbol("a")
    >>> bea.modified_loss(a**4 / 4, [a], method=ProximalPoint())
    -a**6*h/4 + a**4/4
    """

    name = "proximal-point"

    def step_map(self, loss, params, h):
        """The residual G(θ, θ') = θ' − θ + h∇E(θ'), solved for θ'."""
        new = shifted(params, "next")
        g = substituted(gradient(loss, params), params, new)
        rel = [n - p + h * gi for n, p, gi in zip(new, params, g, strict=True)]
        return ImplicitStep(sp.Matrix(rel), tuple(params), h, new, self.name, loss)


@dataclass(frozen=True)
class WeightDecay(Optimizer):
    """An optimizer on E + (λ/2)‖θ‖² (L2 weight decay, coupled form).

    Parameters
    ----------
    inner : Optimizer
        The optimizer that sees the decayed loss.
    lam : number or sympy Symbol
        λ ≥ 0.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, lam = sp.symbols("a lam")
    >>> bea.modified_loss(a**2 / 2, [a], method=WeightDecay(GD(), lam), order=0)
    a**2*(lam + 1)/2
    """

    inner: Optimizer = GD()
    lam: object = sp.Symbol("lam")

    def __post_init__(self):
        if not isinstance(self.inner, Optimizer):
            raise InputError(f"WeightDecay wraps an optimizer, got {self.inner!r}")
        object.__setattr__(self, "lam", hyper_parameter(self.lam, "lam", lo=0, hi=None))

    @property
    def name(self) -> str:  # type: ignore[override]
        """The inner optimizer's name with ``+weight-decay``."""
        return f"{self.inner.name}+weight-decay"

    def _loss(self, loss, params):
        return loss + self.lam / 2 * sum(p**2 for p in params)

    def step_map(self, loss, params, h):
        """The inner optimizer's step on the decayed loss."""
        return self.inner.step_map(self._loss(loss, params), params, h)

    def flow(self, loss, params, h, order):
        """The inner optimizer's flow on the decayed loss."""
        return self.inner.flow(self._loss(loss, params), params, h, order).with_method(
            self.name, loss
        )

    def flow_and_step(self, loss, params, h, order):
        """The inner optimizer's pair on the decayed loss."""
        flow, step = self.inner.flow_and_step(self._loss(loss, params), params, h, order)
        return flow.with_method(self.name, loss), step
