"""The common currency of methods: a one-step map with its state and the loss it descends."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["StepMap"]


@dataclass(frozen=True)
class StepMap:
    """A one-step map Φ_h over ``state``, produced by a method on a loss.

    Attributes
    ----------
    step : sympy Matrix
        Φ_h(state) as a column.
    state : tuple of sympy Symbol
        The state the map acts on.
    h : sympy Symbol
        The step size.
    name : str
        The method's registry name.
    loss : sympy expression or None
        The loss whose gradient flow is the h → 0 limit, when there is one.
    prev : tuple of sympy Symbol or None
        For a method with memory (momentum): the symbols of the previous iterate θ_{n−1} that
        ``step`` also uses; ``None`` for a one-step map.
    implicit : tuple of sympy Symbol or None
        For an implicit method: the symbols of the new iterate θ_{n+1}; ``step`` is then the
        residual G(θ_n, θ_{n+1}) whose zero defines the step (solved numerically by Newton).
    fast : tuple of sympy Symbol or None
        Extra state carried by the method (Adam's moments); ``step`` then maps (θ, w) ↦ (θ', w')
        and ``fast_init`` gives w on the slow manifold as expressions in θ and h.
    fast_init : sympy Matrix or None

    Examples
    --------
    >>> import sympy as sp
    >>> from bea.methods import gradient_descent
    >>> t, h = sp.symbols("t h")
    >>> gradient_descent(t**2 / 2, (t,), h).step
    Matrix([[-h*t + t]])
    """

    step: sp.Matrix
    state: tuple[sp.Symbol, ...]
    h: sp.Symbol
    name: str
    loss: sp.Expr | None = None
    prev: tuple[sp.Symbol, ...] | None = None
    implicit: tuple[sp.Symbol, ...] | None = None
    fast: tuple[sp.Symbol, ...] | None = None
    fast_init: sp.Matrix | None = None
