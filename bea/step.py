"""Step kinds: what one iteration of a method is, as an explicit type.

Every method bea analyses is one of these kinds, each a small frozen dataclass over sympy
expressions with the state it acts on, the step-size symbol, a name and (when there is one) the
loss whose gradient flow is the h → 0 limit:

=====================  ==========================================================================
kind                   one iteration
=====================  ==========================================================================
:class:`StepMap`       explicit one-step map θ' = Φ_h(θ) (GD, explicit Runge–Kutta, SGD epochs)
:class:`ImplicitStep`  θ' defined by a residual G(θ, θ') = 0 (proximal point, implicit Euler)
:class:`TwoStepMap`    θ_{n+1} = Ψ_h(θ_n, θ_{n−1}) (heavy ball, Nesterov, two-step methods)
:class:`SlowFastMap`   an explicit map on (θ, w) whose fast variables w (Adam's moments) are slaved
                       to θ after the transient
=====================  ==========================================================================

Each kind says how it is written as a relation between iterates (:meth:`Step.relation`), which is
all the relation route needs to derive its modified flow; explicit maps also go through the faster
Taylor route. Each kind has one compiler in :mod:`bea.numeric.stepper` for batched iteration.
Adding a kind means adding a class here and a compiler there; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ._checks import check_step_symbol, check_symbols
from .errors import InputError
from .parsing import as_matrix

__all__ = ["ImplicitStep", "Relation", "SlowFastMap", "Step", "StepMap", "TwoStepMap"]


@dataclass(frozen=True)
class Relation:
    """A method as equations between iterates (the relation route's input).

    Attributes
    ----------
    equations : tuple of sympy expressions
        R = 0: one per state variable, then one per fast variable.
    shifted : dict int → tuple of Symbol
        For each shift s ≠ 0, the symbols standing for θ_{n+s}.
    fast : dict int → tuple of Symbol
        For each shift s (0 included), the symbols of the fast variables w_{n+s}; empty if none.
    """

    equations: tuple
    shifted: dict
    fast: dict = field(default_factory=dict)


def _shifted(state, tag: str) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Dummy(f"{s}_{tag}") for s in state)


def _column(value, n: int, what: str) -> sp.Matrix:
    col = as_matrix(value, what=what, check=False)
    if col.shape != (n, 1):
        col = col.reshape(len(col), 1) if len(col) == n else col
    if col.shape != (n, 1):
        raise InputError(f"{what} must be a column of {n} expressions, got shape {col.shape}")
    return col


@dataclass(frozen=True)
class Step:
    """Common fields of every step kind (see the module docstring).

    Attributes
    ----------
    state : tuple of sympy Symbol
        θ, the variables the modified flow lives on.
    h : sympy Symbol
        The step size.
    name : str
        The method's name.
    loss : sympy expression or None
        The loss whose gradient flow is the h → 0 limit, when there is one.
    """

    def relation(self) -> Relation:  # pragma: no cover - each kind defines it
        """The method as equations between iterates."""
        raise NotImplementedError

    def _check(self):
        object.__setattr__(self, "state", check_symbols(self.state, "state"))
        object.__setattr__(self, "h", check_step_symbol(self.h))
        if self.h in self.state:
            raise InputError(f"the step size {self.h} cannot also be a state variable")


@dataclass(frozen=True)
class StepMap(Step):
    """An explicit one-step map θ' = Φ_h(θ).

    Attributes
    ----------
    step : sympy Matrix
        Φ_h(state) as a column.
    state, h, name, loss
        See :class:`Step`.

    Examples
    --------
    >>> import sympy as sp
    >>> t, h = sp.symbols("t h")
    >>> StepMap(sp.Matrix([t - h * t]), (t,), h, "gd").relation().equations
    (_t_next + h*t - t,)
    """

    step: sp.Matrix
    state: tuple[sp.Symbol, ...]
    h: sp.Symbol
    name: str = "map"
    loss: sp.Expr | None = None

    def __post_init__(self):
        self._check()
        object.__setattr__(self, "step", _column(self.step, len(self.state), "step"))

    def relation(self) -> Relation:
        """θ_{n+1} − Φ_h(θ_n) = 0."""
        nxt = _shifted(self.state, "next")
        eqs = tuple(n - p for n, p in zip(nxt, self.step, strict=True))
        return Relation(eqs, {1: nxt})


@dataclass(frozen=True)
class ImplicitStep(Step):
    """A step whose new iterate solves G(θ, θ') = 0.

    Attributes
    ----------
    residual : sympy Matrix
        G as a column in ``state`` (θ) and ``new`` (θ').
    new : tuple of sympy Symbol
        The symbols of θ'.
    state, h, name, loss
        See :class:`Step`.

    Examples
    --------
    Implicit Euler on y' = −y:

    >>> import sympy as sp
    >>> y, y1, h = sp.symbols("y y1 h")
    >>> ImplicitStep(sp.Matrix([y1 - y + h * y1]), (y,), h, (y1,)).relation().shifted
    {1: (y1,)}
    """

    residual: sp.Matrix
    state: tuple[sp.Symbol, ...]
    h: sp.Symbol
    new: tuple[sp.Symbol, ...]
    name: str = "implicit"
    loss: sp.Expr | None = None

    def __post_init__(self):
        self._check()
        object.__setattr__(self, "new", check_symbols(self.new, "new"))
        if len(self.new) != len(self.state) or set(self.new) & set(self.state):
            raise InputError("the new iterate needs its own symbols, one per state variable")
        object.__setattr__(
            self, "residual", _column(self.residual, len(self.state), "the residual")
        )

    def relation(self) -> Relation:
        """G(θ_n, θ_{n+1}) = 0."""
        return Relation(tuple(self.residual), {1: self.new})


@dataclass(frozen=True)
class TwoStepMap(Step):
    """A method with memory: θ_{n+1} = Ψ_h(θ_n, θ_{n−1}).

    After the transient its iterates lie on the flow of one modified field (the invariant
    manifold θ_{n−1} = φ_{−h}(θ_n)); numeric verification starts there.

    Attributes
    ----------
    step : sympy Matrix
        Ψ_h as a column in ``state`` (θ_n) and ``prev`` (θ_{n−1}).
    prev : tuple of sympy Symbol
        The symbols of θ_{n−1}.
    state, h, name, loss
        See :class:`Step`.

    Examples
    --------
    >>> import sympy as sp
    >>> t, tp, h = sp.symbols("t t_prev h")
    >>> TwoStepMap(sp.Matrix([t + (t - tp) / 2 - h * t]), (t,), h, (tp,)).relation().shifted[-1]
    (t_prev,)
    """

    step: sp.Matrix
    state: tuple[sp.Symbol, ...]
    h: sp.Symbol
    prev: tuple[sp.Symbol, ...]
    name: str = "two-step"
    loss: sp.Expr | None = None

    def __post_init__(self):
        self._check()
        object.__setattr__(self, "prev", check_symbols(self.prev, "prev"))
        if len(self.prev) != len(self.state) or set(self.prev) & set(self.state):
            raise InputError("the previous iterate needs its own symbols, one per state variable")
        object.__setattr__(self, "step", _column(self.step, len(self.state), "step"))

    def relation(self) -> Relation:
        """θ_{n+1} − Ψ_h(θ_n, θ_{n−1}) = 0."""
        nxt = _shifted(self.state, "next")
        eqs = tuple(n - p for n, p in zip(nxt, self.step, strict=True))
        return Relation(eqs, {1: nxt, -1: self.prev})


@dataclass(frozen=True)
class SlowFastMap(Step):
    """An explicit map on (θ, w): θ' = Φ_h(θ, w), w' = Ω_h(θ, w), with fast variables w.

    The fast variables (moment estimates) are slaved to θ after the transient,
    w = W₀(θ) + h W₁(θ) + … ; the relation route derives that expansion with the flow of θ and
    numeric verification starts on it. Φ_h may use w only with a factor h (θ moves slowly).

    Attributes
    ----------
    step : sympy Matrix
        (Φ_h, Ω_h) stacked: first one row per state variable, then one per fast variable.
    fast : tuple of sympy Symbol
        The fast variables w.
    state, h, name, loss
        See :class:`Step`.

    Examples
    --------
    RMSProp on t²/2 (ε = 1): v' = ρv + (1 − ρ)t², t' = t − h t/√(v' + 1):

    >>> import sympy as sp
    >>> t, v, h = sp.symbols("t v h")
    >>> v1 = v / 2 + t**2 / 2
    >>> step = SlowFastMap(sp.Matrix([t - h * t / sp.sqrt(v1 + 1), v1]), (t,), h, (v,))
    >>> sorted(step.relation().fast)
    [0, 1]
    """

    step: sp.Matrix
    state: tuple[sp.Symbol, ...]
    h: sp.Symbol
    fast: tuple[sp.Symbol, ...]
    name: str = "slow-fast"
    loss: sp.Expr | None = None

    def __post_init__(self):
        self._check()
        object.__setattr__(self, "fast", check_symbols(self.fast, "fast"))
        if set(self.fast) & (set(self.state) | {self.h}):
            raise InputError("the fast variables need their own symbols")
        n = len(self.state) + len(self.fast)
        object.__setattr__(self, "step", _column(self.step, n, "step"))

    def relation(self) -> Relation:
        """(θ, w)_{n+1} − (Φ_h, Ω_h)(θ_n, w_n) = 0."""
        nxt = _shifted(self.state, "next")
        wnext = _shifted(self.fast, "next")
        eqs = tuple(n - p for n, p in zip(nxt + wnext, self.step, strict=True))
        return Relation(eqs, {1: nxt}, {0: self.fast, 1: wnext})
