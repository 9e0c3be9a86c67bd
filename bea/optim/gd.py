"""Gradient descent, its implicit twin (the proximal point method) and L2 weight decay."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._checks import check_symbols, hyper_parameter
from ..errors import InputError
from ..flow import ModifiedFlow
from ..parsing import as_expression
from ..step import ImplicitStep, StepMap
from .base import Optimizer, gradient, shifted, substituted

__all__ = ["GD", "ProximalPoint", "WeightDecay"]


@dataclass(frozen=True)
class GD(Optimizer):
    """Gradient descent θ ← θ − h∇E(θ): explicit Euler on the gradient flow θ̇ = −∇E.

    Parameters
    ----------
    schedule : sympy expression or str, optional
        A learning-rate schedule s(t): the step n is θ ← θ − h s(t_n)∇E(θ) with t_n = nh, so the
        learning rate is h·s(t) (warm-up, decay, cosine: any smooth s). The modified flow is then
        non-autonomous: its terms depend on t, which they treat as a constant symbol, and the
        modified loss is Ẽ(θ, t) = s E + h(s²‖∇E‖²/4 − s′E/2) + …. Verification runs on the
        autonomous step map of (θ, t), with t ← t + h (:meth:`flow_and_step`).
    time : sympy Symbol or str, default "t"
        The time symbol of the schedule.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, t = sp.symbols("a t")
    >>> bea.modified_loss(a**4 / 4, [a], method=GD())
    a**6*h/4 + a**4/4
    >>> sp.expand(bea.modified_loss(a**2 / 2, [a], method=GD(schedule=sp.exp(-t))))
    a**2*h*exp(-t)/4 + a**2*h*exp(-2*t)/4 + a**2*exp(-t)/2
    """

    schedule: sp.Expr | str | None = None
    time: sp.Symbol | str = "t"

    name = "gd"

    def __post_init__(self):
        if self.schedule is None:
            return
        (t,) = check_symbols([self.time], "time")
        s = as_expression(self.schedule, (t,), what="schedule")
        if t not in s.free_symbols:
            raise InputError(f"the schedule {s} does not depend on the time {t}")
        object.__setattr__(self, "time", t)
        object.__setattr__(self, "schedule", s)

    def step_map(self, loss, params, h):
        """θ − h∇E(θ); with a schedule, (θ − h s(t)∇E(θ), t + h) on the state (θ, t).

        Examples
        --------
        >>> import sympy as sp
        >>> a, b, h = sp.symbols("a b h")
        >>> GD().step_map(a * b, (a, b), h).step.T
        Matrix([[a - b*h, -a*h + b]])
        >>> GD(schedule="1/(1 + t)").step_map(a**2 / 2, (a,), h).step.T
        Matrix([[-a*h/(t + 1) + a, h + t]])
        """
        if self.schedule is None:
            new = [p - h * g for p, g in zip(params, gradient(loss, params), strict=True)]
            return StepMap(sp.Matrix(new), tuple(params), h, self.name, loss)
        t = self.time
        if t in params or t == h:
            raise InputError(f"the schedule's time {t} cannot also be a parameter or the step size")
        if t in loss.free_symbols:
            raise InputError(f"the loss cannot depend on the schedule's time {t}")
        s = self.schedule
        new = [p - h * s * g for p, g in zip(params, gradient(loss, params), strict=True)]
        return StepMap(sp.Matrix([*new, t + h]), (*params, t), h, self.name, loss)

    def flow(self, loss, params, h, order):
        """The modified flow of θ (with a schedule: the θ-components of the flow of (θ, t), t a
        constant symbol in them).

        Examples
        --------
        >>> import sympy as sp
        >>> a, t, h = sp.symbols("a t h")
        >>> GD(schedule=1 + t).flow(a**2 / 2, (a,), h, 1).terms[1]
        Matrix([[-a*t**2/2 - a*t]])
        """
        full = self.flow_and_step(loss, params, h, order)[0]
        if self.schedule is None:
            return full
        d = len(params)
        terms = [list(term)[:d] for term in full.terms]
        return ModifiedFlow.from_exprs(terms, params, h, method=self.name, loss=loss)


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
