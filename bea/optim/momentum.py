"""Momentum methods after their transient: heavy ball and Nesterov.

Time: ``time="step"`` counts one step as time h and expands the flow in powers of h.
``time="effective"`` counts one step as the effective learning rate η = h/(1 − β) and expands in
powers of η (written ``h``); Ghosh et al. (ICLR 2023) compare methods this way. Both are the same
update: in effective time the step map is written with h = η(1 − β), so derivation and numeric
verification work in either time.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._checks import hyper_parameter
from ..errors import InputError
from ..step import TwoStepMap
from .base import Optimizer, gradient, shifted, substituted

__all__ = ["HeavyBall", "Nesterov"]


@dataclass(frozen=True)
class HeavyBall(Optimizer):
    """Heavy-ball momentum θ_{n+1} = θ_n − h∇E(θ_n) + β(θ_n − θ_{n−1}), after the transient.

    Parameters
    ----------
    beta : number or sympy Symbol, default Symbol("beta")
        Momentum, in [0, 1).
    time : {"step", "effective"}
        ``"step"``: one step is time h, flow in powers of h. ``"effective"``: one step is time
        η = h/(1 − β) and the flow is expanded in powers of η, written ``h``.

    Examples
    --------
    Ghosh et al. (ICLR 2023): at the same effective learning rate the implicit penalty is
    (1 + β)/(1 − β) times GD's ‖∇E‖²/4:

    >>> import sympy as sp, bea
    >>> a, b, beta = sp.symbols("a b beta")
    >>> E = (a * b - 1) ** 2 / 2
    >>> V1 = bea.modified_flow(E, [a, b], 1, method=HeavyBall(beta, "effective")).potential(1)
    >>> sp.factor(V1 / (sp.diff(E, a) ** 2 + sp.diff(E, b) ** 2))
    -(beta + 1)/(4*(beta - 1))
    """

    beta: object = sp.Symbol("beta")
    time: str = "step"
    name = "heavy-ball"

    def __post_init__(self):
        object.__setattr__(self, "beta", hyper_parameter(self.beta, "beta", lo=0, hi=1))
        if self.time not in ("step", "effective"):
            raise InputError(f"time must be 'step' or 'effective', got {self.time!r}")

    def _gradient_point(self, params, prev):
        return params

    def step_map(self, loss, params, h):
        """The two-step update θ_{n+1} = Ψ_h(θ_n, θ_{n−1}) (in effective time, with the
        learning rate h(1 − β))."""
        prev = shifted(params, "prev")
        rate = h if self.time == "step" else h * (1 - self.beta)
        g = substituted(gradient(loss, params), params, self._gradient_point(params, prev))
        new = [
            p + self.beta * (p - q) - rate * gi for p, q, gi in zip(params, prev, g, strict=True)
        ]
        return TwoStepMap(sp.Matrix(new), tuple(params), h, prev, self.name, loss)


@dataclass(frozen=True)
class Nesterov(HeavyBall):
    """Nesterov momentum: the gradient at the look-ahead point θ_n + β(θ_n − θ_{n−1}).

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, b, beta = sp.symbols("a b beta")
    >>> E = (a * b - 1) ** 2 / 2
    >>> V1 = bea.modified_flow(E, [a, b], 1, method=Nesterov(beta)).potential(1)
    >>> sp.factor(V1 / (sp.diff(E, a) ** 2 + sp.diff(E, b) ** 2))
    -(2*beta**2 - beta + 1)/(4*(beta - 1)**3)
    """

    name = "nesterov"

    def _gradient_point(self, params, prev):
        return [p + self.beta * (p - q) for p, q in zip(params, prev, strict=True)]
