"""The optimizer contract, and the small helpers every optimizer uses."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..flow import ModifiedFlow
from ..routes import derive_step
from ..step import Step

__all__ = ["Optimizer", "gradient", "hyper_symbols", "shifted", "substituted"]


class Optimizer:
    """Base class of bea's optimizers, and the contract for adding one.

    An optimizer turns a loss into a step of one of the kinds of :mod:`bea.step`; bea derives
    its modified flow from that step (by the route for its kind) and verifies it numerically (by
    the kind's compiler in :mod:`bea.numeric.stepper`). To add an optimizer:

    1. Write one module in ``bea/optim/`` with a frozen dataclass subclassing :class:`Optimizer`;
       its registry name is the class attribute ``name`` (lower case, hyphenated).
    2. Hyper-parameters are dataclass fields. Convert each in ``__post_init__`` with
       :func:`bea._checks.hyper_parameter`: exact numbers (range-checked) or sympy symbols.
    3. Write the update once, in :meth:`step_map`, returning a :class:`~bea.step.StepMap`
       (explicit), :class:`~bea.step.ImplicitStep`, :class:`~bea.step.TwoStepMap` or
       :class:`~bea.step.SlowFastMap`. Derivation and verification both start from it; never
       write the update a second time.
    4. Override :meth:`flow` only when the flow users ask for is not the flow of the step map in
       its own time (SGD reports single-step time for a map of one epoch; a mean over several
       maps). :meth:`flow_and_step` must then still return a matching pair for verification.
    5. Register an instance with default (symbolic) hyper-parameters in
       ``bea.optim.OPTIMIZERS``.
    6. Add a test that reproduces a literature result by derivation. The conformance test
       (``tests/optim/test_conformance.py``) then checks, for every registered optimizer, that
       it derives a flow of the asked order, that its step map and flow agree, and that
       verification measures local order p + 2.

    Examples
    --------
    A complete optimizer in a few lines — the explicit midpoint rule on the gradient flow:

    >>> import sympy as sp
    >>> from dataclasses import dataclass
    >>> from bea.step import StepMap
    >>> @dataclass(frozen=True)
    ... class Midpoint(Optimizer):
    ...     name = "midpoint"
    ...     def step_map(self, loss, params, h):
    ...         g = gradient(loss, params)
    ...         half = [p - h / 2 * gi for p, gi in zip(params, g)]
    ...         new = [p - h * gi for p, gi in zip(params, substituted(g, params, half))]
    ...         return StepMap(sp.Matrix(new), tuple(params), h, self.name, loss)
    >>> t, h = sp.symbols("t h")
    >>> Midpoint().flow(t**2 / 2, (t,), h, 2).terms[1]   # second order: f₁ = 0
    Matrix([[0]])
    """

    name = "optimizer"

    def step_map(self, loss: sp.Expr, params: Sequence[sp.Symbol], h: sp.Symbol) -> Step:
        """One iteration as a step of a kind of :mod:`bea.step` (the update, written once)."""
        raise NotImplementedError(f"{type(self).__name__} does not define step_map")

    def flow_and_step(
        self, loss: sp.Expr, params: Sequence[sp.Symbol], h: sp.Symbol, order: int
    ) -> tuple[ModifiedFlow, Step]:
        """The step map and its modified flow in the step map's own time (what
        :func:`bea.verify` compares)."""
        step = self.step_map(loss, params, h)
        return derive_step(step, order).with_method(self.name, loss), step

    def flow(
        self, loss: sp.Expr, params: Sequence[sp.Symbol], h: sp.Symbol, order: int
    ) -> ModifiedFlow:
        """The modified flow users ask for (:func:`bea.modified_flow` calls this)."""
        return self.flow_and_step(loss, params, h, order)[0]


def gradient(loss: sp.Expr, params: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """∇E as a list.

    Examples
    --------
    >>> a, b = sp.symbols("a b")
    >>> gradient(a**2 * b, (a, b))
    [2*a*b, a**2]
    """
    return [sp.diff(loss, p) for p in params]


def shifted(params: Sequence[sp.Symbol], tag: str) -> tuple[sp.Symbol, ...]:
    """Fresh symbols standing for another iterate of the parameters (``a`` → ``a_prev``).

    Examples
    --------
    >>> shifted(sp.symbols("a b"), "prev")
    (_a_prev, _b_prev)
    """
    return tuple(sp.Dummy(f"{p}_{tag}") for p in params)


def substituted(exprs, old: Sequence[sp.Symbol], new: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Expressions with ``old`` replaced by ``new`` simultaneously (e.g. ∇E at another point).

    Examples
    --------
    >>> a, b = sp.symbols("a b")
    >>> substituted([a * b], (a, b), (b, a + 1))
    [b*(a + 1)]
    """
    sub = dict(zip(old, new, strict=True))
    return [sp.sympify(e, strict=True).xreplace(sub) for e in exprs]


def hyper_symbols(method: Optimizer) -> set:
    """Free symbols of an optimizer's hyper-parameters — its fields that are sympy expressions
    (they must differ from the parameters and the step size; data such as SGD's mini-batch
    losses, held in tuples, are not hyper-parameters).

    Examples
    --------
    >>> from bea.optim import HeavyBall
    >>> hyper_symbols(HeavyBall())
    {beta}
    """
    out: set = set()
    for value in vars(method).values():
        if isinstance(value, sp.Basic):
            out |= value.free_symbols
        elif isinstance(value, Optimizer):
            out |= hyper_symbols(value)
    return out
