"""Stochastic gradient descent as people analyse it: one epoch of mini-batch steps, in a fixed
order or averaged over random shuffles (Smith, Dherin, Barrett & De, ICLR 2021)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from ..errors import InputError
from ..flow import ModifiedFlow
from ..parsing import as_expression
from ..routes import derive_step
from ..step import StepMap
from .base import Optimizer, gradient, substituted

__all__ = ["SGD"]


@dataclass(frozen=True)
class SGD(Optimizer):
    """One epoch of mini-batch gradient descent on losses C₁ … C_m (m steps of size h).

    :meth:`flow` is in the time of single steps: one epoch advances time m h. With
    ``shuffle=False`` the batches come in the given order; with ``shuffle=True`` the result is the
    modified flow of the *mean* iterate over all m! orders (random shuffling). The step map (for
    verification) is one epoch in a fixed order, with its own step size standing for the epoch's
    time m h.

    Parameters
    ----------
    losses : sequence of sympy expressions or str
        The mini-batch losses C_k; the full loss is their mean C.
    shuffle : bool

    Examples
    --------
    Smith, Dherin, Barrett & De (ICLR 2021): the mean iterate follows
    C + (h/4m) Σ_k ‖∇C_k‖²:

    >>> import sympy as sp, bea
    >>> a, b = sp.symbols("a b")
    >>> C1, C2 = (a - 1) ** 2 / 2 + a * b, (b + 1) ** 2 / 2 - a * b
    >>> sgd = SGD([C1, C2], shuffle=True)
    >>> got = bea.modified_loss((C1 + C2) / 2, [a, b], method=sgd)
    >>> g2 = lambda C: sp.diff(C, a) ** 2 + sp.diff(C, b) ** 2
    >>> h = sp.Symbol("h")
    >>> diff = sp.expand(got - (C1 + C2) / 2 - h / 8 * (g2(C1) + g2(C2)))
    >>> diff.free_symbols <= {h}      # equal up to a constant
    True
    """

    losses: tuple = ()
    shuffle: bool = True
    name = "sgd"

    def __post_init__(self):
        if isinstance(self.losses, str | sp.Basic):
            raise InputError("SGD takes a sequence of mini-batch losses")
        losses = tuple(as_expression(c, what="mini-batch loss") for c in self.losses)
        if len(losses) < 1:
            raise InputError("SGD needs at least one mini-batch loss")
        if len(losses) > 5:
            raise InputError("SGD derives over all orders of the batches: at most 5 batches")
        object.__setattr__(self, "losses", losses)

    def _check(self, loss, params):
        m = len(self.losses)
        mean = sum(self.losses, sp.Integer(0)) / m
        diff = sp.expand(loss - mean)
        if diff != 0 and sp.simplify(diff) != 0:
            raise InputError("the loss must be the mean of the SGD mini-batch losses")
        for c in self.losses:
            if c.free_symbols - set(params) - set(mean.free_symbols):
                raise InputError("mini-batch losses use symbols the full loss does not")

    def _epoch(self, params, rate, order_of_batches):
        theta = list(params)
        for k in order_of_batches:
            g = substituted(gradient(self.losses[k], params), params, theta)
            theta = [t - rate * gi for t, gi in zip(theta, g, strict=True)]
        return theta

    def _epoch_map(self, loss, params, H, orders) -> StepMap:
        m = len(self.losses)
        maps = [self._epoch(params, H / m, o) for o in orders]
        mean = sp.Matrix([sum(col) / len(maps) for col in zip(*maps, strict=True)])
        return StepMap(mean, tuple(params), H, self.name, loss)

    def step_map(self, loss, params, h):
        """One epoch in a fixed order; ``h`` stands for the epoch's time m·(learning rate).
        Shuffled SGD has no single map (its result is a mean over orders)."""
        if self.shuffle:
            raise InputError("shuffled SGD is a mean over orders: verify SGD(..., shuffle=False)")
        self._check(loss, params)
        return self._epoch_map(loss, params, h, [tuple(range(len(self.losses)))])

    def flow(self, loss, params, h, order):
        """The modified flow of one epoch (fixed order) or of its mean over all orders, in the
        time of single steps. ``loss`` must be the mean of the mini-batch losses (checked)."""
        self._check(loss, params)
        m = len(self.losses)
        H = sp.Dummy("H")  # one epoch is time H = m h
        orders = list(itertools.permutations(range(m))) if self.shuffle else [tuple(range(m))]
        epoch = derive_step(self._epoch_map(loss, params, H, orders), order)
        terms = [sp.Integer(m) ** j * t for j, t in enumerate(epoch.terms)]
        return ModifiedFlow.from_exprs(terms, params, h, method=self.name, loss=loss)
