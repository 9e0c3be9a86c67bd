"""Optimizers as first-class objects: each derives its modified flow on a loss.

Hyper-parameters are numbers (read exactly) or sympy symbols. Every optimizer has
``flow(loss, params, h, order) -> ModifiedFlow`` and, when its update is an explicit one-step map,
``step_map(loss, params, h)`` for numeric verification. Pass an instance as ``method=`` to
:func:`bea.modified_flow` / :func:`bea.modified_loss`.

* :class:`GD`, :class:`ProximalPoint` (implicit GD), :class:`HeavyBall`, :class:`Nesterov` —
  the last three through the relation route (:mod:`bea.relation`);
* :class:`WeightDecay` wraps an optimizer (L2 form: the loss gains λ‖θ‖²/2);
* :class:`SGD`: one epoch of m mini-batch GD steps on losses C₁ … C_m in a fixed order, or the
  mean iterate over all orders (random shuffling, Smith, Dherin, Barrett & De, ICLR 2021);
* :class:`Adam` and :func:`RMSProp` (ε inside the root; moments slaved to the gradient), whose
  fields are preconditioned gradients (:func:`preconditioned_loss`);
* :class:`Game`: simultaneous or alternating GD for two players (derives with ``Game.flow``).

Time: GD-type flows count one step as time h. Momentum methods take ``time="step"`` (the same) or
``time="effective"``: time measured in effective learning rate η = h/(1 − β) per step, the flow then
expanded in powers of η (Ghosh et al., ICLR 2023, compare methods this way).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .diffring import DiffRing
from .errors import InputError
from .flow import ModifiedFlow
from .methods import gradient_descent
from .methods.base import StepMap
from .relation import relation_modified_equation
from .series import _check_symbols, modified_equation

__all__ = [
    "GD",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "Game",
    "HeavyBall",
    "Nesterov",
    "Optimizer",
    "ProximalPoint",
    "RMSProp",
    "WeightDecay",
    "preconditioned_loss",
    "resolve_method",
]


def _number(value, name: str, *, lo=None, hi=None, lo_open=False, hi_open=True):
    """An exact hyper-parameter (sympy Rational or symbol), range-checked when numeric."""
    if isinstance(value, str):
        value = sp.Symbol(value)
    if isinstance(value, float):
        value = sp.Rational(str(value))
    value = sp.sympify(value)
    if value.free_symbols:
        return value
    if not value.is_real or not value.is_finite:
        raise InputError(f"{name} must be a finite real number or a symbol, got {value}")
    bad = (lo is not None and (value < lo or (lo_open and value == lo))) or (
        hi is not None and (value > hi or (hi_open and value == hi))
    )
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise InputError(f"{name} must lie in {left}{lo}, {hi}{right}, got {value}")
    return value


def _grad(loss, params):
    return [sp.diff(loss, p) for p in params]


def _shifted(params, tag: str):
    return [sp.Symbol(f"{p}__{tag}") for p in params]


def _rescale(flow: ModifiedFlow, factors: Sequence[sp.Expr], method: str) -> ModifiedFlow:
    """The flow with term j multiplied by factors[j] (rebuilt exactly in a fresh ring)."""
    exprs = [[sp.expand(c * e) for e in t] for c, t in zip(factors, flow.terms, strict=False)]
    from .relation import _common_denominator

    exprs = _common_denominator([sp.Matrix(t) for t in exprs], flow.state)
    ring = DiffRing([e for t in exprs for e in t], flow.state)
    terms = [[ring.to_ring(e) for e in t] for t in exprs]
    out = ModifiedFlow._from_ring(ring, terms, state=flow.state, h=flow.h, method=method)
    return out


class Optimizer:
    """Base class: an update rule that can derive its modified flow."""

    name = "optimizer"

    def flow(self, loss, params, h, order) -> ModifiedFlow:  # pragma: no cover - abstract
        raise NotImplementedError

    def step_map(self, loss, params, h) -> StepMap:
        """The explicit one-step map, for numeric verification."""
        raise InputError(f"{self.name} has no explicit one-step map (implicit or with memory)")

    def verification(self, loss, params, h, order) -> tuple[ModifiedFlow, StepMap]:
        """The (modified flow, step map) pair that :func:`bea.verify` compares."""
        step = self.step_map(loss, params, h)
        flow = dataclasses.replace(self.flow(loss, params, h, order), method=self.name, loss=loss)
        return flow, step


@dataclass(frozen=True)
class GD(Optimizer):
    """Gradient descent θ ← θ − h∇E(θ).

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a = sp.Symbol("a")
    >>> bea.modified_loss(a**4 / 4, [a], method=GD())
    a**6*h/4 + a**4/4
    """

    name = "gd"

    def flow(self, loss, params, h, order):
        """The modified flow (Taylor route)."""
        step = self.step_map(loss, params, h)
        return modified_equation(step.step, step.state, h, order)

    def step_map(self, loss, params, h):
        """θ − h∇E(θ)."""
        return gradient_descent(loss, params, h)


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
        """The implicit step as a residual G(θ, θ') = θ' − θ + h∇E(θ') (``implicit`` = θ')."""
        nxt = tuple(_shifted(params, "next"))
        g = [
            e.subs(dict(zip(params, nxt, strict=True)), simultaneous=True)
            for e in _grad(loss, params)
        ]
        rel = [n - p + h * gi for n, p, gi in zip(nxt, params, g, strict=True)]
        return StepMap(sp.Matrix(rel), tuple(params), h, self.name, loss, implicit=nxt)

    def flow(self, loss, params, h, order):
        """The modified flow (relation route)."""
        nxt = _shifted(params, "next")
        g = [
            e.subs(dict(zip(params, nxt, strict=True)), simultaneous=True)
            for e in _grad(loss, params)
        ]
        rel = [n - p + h * gi for n, p, gi in zip(nxt, params, g, strict=True)]
        return relation_modified_equation(rel, params, {1: nxt}, h, order, method=self.name)


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
        object.__setattr__(self, "beta", _number(self.beta, "beta", lo=0, hi=1))
        if self.time not in ("step", "effective"):
            raise InputError(f"time must be 'step' or 'effective', got {self.time!r}")

    def _gradient_point(self, params, prev):
        return params

    def step_map(self, loss, params, h):
        """The two-step update θ_{n+1} = Ψ_h(θ_n, θ_{n−1}), with ``prev`` = θ_{n−1} symbols.

        The symbols ``<param>__prev`` stand for the previous iterate.
        """
        prev = tuple(_shifted(params, "prev"))
        at = self._gradient_point(params, prev)
        g = [
            e.subs(dict(zip(params, at, strict=True)), simultaneous=True)
            for e in _grad(loss, params)
        ]
        new = [p + self.beta * (p - q) - h * gi for p, q, gi in zip(params, prev, g, strict=True)]
        if self.time != "step":
            raise InputError("numeric verification uses time='step'")
        return StepMap(sp.Matrix(new), tuple(params), h, self.name, loss, prev)

    def flow(self, loss, params, h, order):
        """The modified flow of the iterates after the transient (relation route)."""
        nxt, prev = _shifted(params, "next"), _shifted(params, "prev")
        at = self._gradient_point(params, prev)
        g = [
            e.subs(dict(zip(params, at, strict=True)), simultaneous=True)
            for e in _grad(loss, params)
        ]
        rel = [
            n - p - self.beta * (p - q) + h * gi
            for n, p, q, gi in zip(nxt, params, prev, g, strict=True)
        ]
        flow = relation_modified_equation(
            rel, params, {1: nxt, -1: prev}, h, order, method=self.name
        )
        if self.time == "step":
            return flow
        # θ' = Σ h^j F_j per unit time; in effective time τ = t/(1−β) with h = η(1−β):
        # dθ/dτ = (1−β) Σ (η(1−β))^j F_j, so G_j = (1−β)^{j+1} F_j (η written as h)
        return _rescale(flow, [(1 - self.beta) ** (j + 1) for j in range(order + 1)], self.name)


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


@dataclass(frozen=True)
class WeightDecay(Optimizer):
    """An optimizer on E + (λ/2)‖θ‖² (L2 weight decay, coupled form).

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
        object.__setattr__(self, "lam", _number(self.lam, "lam", lo=0, hi=None))

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.inner.name}+weight-decay"

    def _loss(self, loss, params):
        return loss + self.lam / 2 * sum(p**2 for p in params)

    def flow(self, loss, params, h, order):
        """The inner optimizer's flow on the decayed loss."""
        return self.inner.flow(self._loss(loss, params), params, h, order)

    def step_map(self, loss, params, h):
        """The inner optimizer's step on the decayed loss."""
        return self.inner.step_map(self._loss(loss, params), params, h)


@dataclass(frozen=True)
class SGD(Optimizer):
    """One epoch of mini-batch gradient descent on losses C₁ … C_m (m steps of size h).

    The flow is in the time of single steps: one epoch advances time m h. With
    ``shuffle=False`` the batches come in the given order; with ``shuffle=True`` the result is the
    modified flow of the *mean* iterate over all m! orders (random shuffling).

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
        from .parsing import parse_loss

        losses = tuple(parse_loss(c) if isinstance(c, str) else sp.sympify(c) for c in self.losses)
        if len(losses) < 1:
            raise InputError("SGD needs at least one mini-batch loss")
        if len(losses) > 5:
            raise InputError("SGD derives over all orders of the batches: at most 5 batches")
        object.__setattr__(self, "losses", losses)

    def _epoch(self, params, h, order_of_batches):
        theta = list(params)
        for k in order_of_batches:
            g = [sp.diff(self.losses[k], p) for p in params]
            sub = dict(zip(params, theta, strict=True))
            theta = [
                t - h * gi.subs(sub, simultaneous=True) for t, gi in zip(theta, g, strict=True)
            ]
        return theta

    def flow(self, loss, params, h, order):
        """The modified flow of one epoch (fixed order) or of its mean over all orders.

        ``loss`` must be the mean of the mini-batch losses (checked).
        """
        m = len(self.losses)
        mean = sum(self.losses, sp.Integer(0)) / m
        if sp.simplify(sp.sympify(loss) - mean) != 0:
            raise InputError("the loss must be the mean of the SGD mini-batch losses")
        for c in self.losses:
            if c.free_symbols - set(params) - set(mean.free_symbols):
                raise InputError("mini-batch losses use symbols the full loss does not")
        H = sp.Dummy("H")  # one epoch is time H = m h
        epoch = self._epoch_flow(loss, params, H, order)
        flow = _rescale(epoch, [sp.Integer(m) ** j for j in range(order + 1)], self.name)
        return _with_h(flow, H, h)

    def _epoch_flow(self, loss, params, H, order):
        m = len(self.losses)
        orders = list(itertools.permutations(range(m))) if self.shuffle else [tuple(range(m))]
        maps = [self._epoch(params, H / m, o) for o in orders]
        mean_map = sp.Matrix([sum(col) / len(maps) for col in zip(*maps, strict=True)])
        return modified_equation(mean_map, params, H, order)

    def step_map(self, loss, params, h):
        """One epoch in a fixed order as a step map, where ``h`` is the epoch's time m·(learning
        rate); shuffled SGD has no single map (its result is a mean over orders)."""
        if self.shuffle:
            raise InputError("shuffled SGD is a mean over orders: verify SGD(..., shuffle=False)")
        m = len(self.losses)
        epoch = self._epoch(params, h / m, tuple(range(m)))
        return StepMap(sp.Matrix(epoch), tuple(params), h, self.name, loss)

    def verification(self, loss, params, h, order):
        """(flow, step map) in epoch time, for :func:`bea.verify`."""
        step = self.step_map(loss, params, h)
        flow = self._epoch_flow(loss, params, h, order)
        return dataclasses.replace(flow, method=self.name, loss=loss), step


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with ε inside the square root, after the bias corrections have died out:

        m' = β₁m + (1 − β₁)∇E(θ),  v' = β₂v + (1 − β₂)∇E(θ)²,  θ' = θ − h m'/√(v' + ε).

    The moments are fast variables slaved to the gradient (m = ∇E + O(h), v = ∇E² + O(h)); the
    relation route solves for them with the flow. The modified field is a *preconditioned*
    gradient, −P∇E + O(h) with P = diag(1/√(∇E² + ε)), not a gradient field: use
    :meth:`preconditioner` and :func:`preconditioned_loss`.

    Parameters
    ----------
    beta1, beta2 : number or sympy Symbol
        In [0, 1); ``beta1 = 0`` is RMSProp.
    eps : number or sympy Symbol
        > 0.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> flow = bea.modified_flow(t**2 / 2, [t], 0, method=Adam(0.9, 0.999, 1e-8))
    >>> flow.terms[0]
    Matrix([[-t/sqrt(t**2 + 1/100000000)]])
    """

    beta1: object = sp.Symbol("beta1")
    beta2: object = sp.Symbol("beta2")
    eps: object = sp.Symbol("epsilon", positive=True)
    name = "adam"  # RMSProp when beta1 = 0

    def __post_init__(self):
        object.__setattr__(self, "beta1", _number(self.beta1, "beta1", lo=0, hi=1))
        object.__setattr__(self, "beta2", _number(self.beta2, "beta2", lo=0, hi=1))
        object.__setattr__(self, "eps", _number(self.eps, "eps", lo=0, hi=None, lo_open=True))

    def preconditioner(self, loss, params) -> sp.Matrix:
        """P = diag(1/√(∂ᵢE² + ε)), the order-0 preconditioner."""
        return sp.diag(*[1 / sp.sqrt(g**2 + self.eps) for g in _grad(loss, params)])

    def flow(self, loss, params, h, order, *, slaved: list | None = None):
        """The modified flow after the transient (relation route with slaved moments)."""
        nxt = _shifted(params, "next")
        m0, m1 = _shifted(params, "m"), _shifted(params, "m_next")
        v0, v1 = _shifted(params, "v"), _shifted(params, "v_next")
        g = _grad(loss, params)
        rel = [
            n - p + h * a / sp.sqrt(b + self.eps)
            for n, p, a, b in zip(nxt, params, m1, v1, strict=True)
        ]
        rel += [
            a1 - self.beta1 * a0 - (1 - self.beta1) * gi
            for a1, a0, gi in zip(m1, m0, g, strict=True)
        ]
        rel += [
            b1 - self.beta2 * b0 - (1 - self.beta2) * gi**2
            for b1, b0, gi in zip(v1, v0, g, strict=True)
        ]
        return relation_modified_equation(
            rel,
            params,
            {1: nxt},
            h,
            order,
            fast={0: m0 + v0, 1: m1 + v1},
            method=self.name,
            slaved=slaved,
        )

    def verification(self, loss, params, h, order):
        """The θ-flow and the step on (θ, m, v), started on the slow manifold
        m, v = Σ_{k ≤ order} h^k W_k(θ) (the bias corrections have died out)."""
        W: list = []
        flow = self.flow(loss, params, h, order, slaved=W)
        m0, v0 = _shifted(params, "m"), _shifted(params, "v")
        g = _grad(loss, params)
        m1 = [self.beta1 * a + (1 - self.beta1) * gi for a, gi in zip(m0, g, strict=True)]
        v1 = [self.beta2 * b + (1 - self.beta2) * gi**2 for b, gi in zip(v0, g, strict=True)]
        new = [p - h * a / sp.sqrt(b + self.eps) for p, a, b in zip(params, m1, v1, strict=True)]
        init = sum((h**k * Wk for k, Wk in enumerate(W)), sp.zeros(len(W[0]), 1))
        step = StepMap(
            sp.Matrix(new + m1 + v1),
            tuple(params),
            h,
            self.name,
            loss,
            fast=tuple(m0 + v0),
            fast_init=init,
        )
        return dataclasses.replace(flow, method=self.name, loss=loss), step


_RHO, _EPS = sp.Symbol("rho"), sp.Symbol("epsilon", positive=True)


def RMSProp(rho=_RHO, eps=_EPS) -> Adam:  # noqa: N802
    """RMSProp: Adam with β₁ = 0 and β₂ = ρ.

    Examples
    --------
    >>> RMSProp(0.9, 1e-8).beta1
    0
    """
    rho = _number(rho, "rho", lo=0, hi=1)
    return Adam(0, rho, eps)


def preconditioned_loss(flow: ModifiedFlow, P: sp.Matrix, order: int | None = None) -> sp.Expr:
    """The loss Ẽ with Σ_{j ≤ order} h^j f_j = −P∇Ẽ, if P⁻¹f_j is a gradient for each j.

    Raises
    ------
    NotAGradientError
        At the first j whose P⁻¹f_j is not a gradient field.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> opt = Adam(sp.Rational(9, 10), sp.Rational(99, 100), 1)
    >>> flow = bea.modified_flow(t**2 / 2, [t], 0, method=opt)
    >>> preconditioned_loss(flow, opt.preconditioner(t**2 / 2, [t]))
    t**2/2
    """
    from .errors import NotAGradientError

    order = flow.order if order is None else order
    Pinv = P.inv()
    X = sp.Matrix(flow.state)
    total = sp.Integer(0)
    for j in range(order + 1):
        q = (Pinv * flow.terms[j]).applyfunc(sp.simplify)
        J = q.jacobian(X)
        A = ((J - J.T) / 2).applyfunc(sp.simplify)
        if A != sp.zeros(*A.shape):
            raise NotAGradientError(j, A)
        V = sp.Integer(0)
        for k, x in enumerate(flow.state):  # integrate -q one variable at a time
            rest = sp.simplify(-q[k] - sp.diff(V, x))
            V += sp.integrate(rest, x)
        total += flow.h**j * sp.simplify(V)
    return total


#: Optimizers by name, with default (symbolic) hyper-parameters.
OPTIMIZERS = {
    "gd": GD(),
    "proximal-point": ProximalPoint(),
    "heavy-ball": HeavyBall(),
    "nesterov": Nesterov(),
    "rmsprop": RMSProp(),
    "adam": Adam(),
}


def resolve_method(method):
    """An optimizer name (``"heavy-ball"``, …) as its default instance; other values unchanged.

    Names of plain step-map methods (:data:`bea.methods.METHODS`, e.g. ``"gd"``) stay names.

    Examples
    --------
    >>> resolve_method("nesterov").name, resolve_method("gd")
    ('nesterov', 'gd')
    """
    from .methods import METHODS

    if isinstance(method, str) and method in OPTIMIZERS and method not in METHODS:
        return OPTIMIZERS[method]
    return method


def _with_h(flow: ModifiedFlow, old: sp.Symbol, new: sp.Symbol) -> ModifiedFlow:
    return dataclasses.replace(flow, h=new) if flow.h == old else flow


@dataclass(frozen=True)
class Game:
    """Two-player gradient descent: player 1 moves x on loss L₁ with learning rate h, player 2
    moves y on L₂ with learning rate νh, either simultaneously or alternating (x first).

    Games have no single loss, so they derive with :meth:`flow` rather than through
    :func:`bea.modified_flow`. The modified field is in the time of player 1's steps.

    Parameters
    ----------
    L1, L2 : sympy expressions or str
        The players' losses (a zero-sum game has L₂ = −L₁).
    x, y : sequences of sympy Symbol or str
        The players' parameters.
    ratio : number or sympy Symbol
        ν = (player 2's learning rate) / (player 1's), > 0.
    alternating : bool
        Player 2 sees player 1's new x (alternating) or the old one (simultaneous).

    Examples
    --------
    Rosca, Wu, Dherin & Barrett (ICML 2021): simultaneous GD on the bilinear game L₁ = xy = −L₂
    drifts outwards; the drift is a gradient term that makes x² + y² grow:

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> flow = Game(x * y, -x * y, [x], [y]).flow(order=1)
    >>> flow.terms[0].T, flow.terms[1].T
    (Matrix([[-y, x]]), Matrix([[x/2, y/2]]))
    """

    L1: object
    L2: object
    x: tuple
    y: tuple
    ratio: object = 1
    alternating: bool = False

    def __post_init__(self):
        from .parsing import parse_loss

        for name in ("L1", "L2"):
            value = getattr(self, name)
            object.__setattr__(
                self, name, parse_loss(value) if isinstance(value, str) else sp.sympify(value)
            )
        x = _check_symbols(self.x, "x")
        y = _check_symbols(self.y, "y")
        if set(x) & set(y):
            raise InputError("the two players' parameters must be different symbols")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "ratio", _number(self.ratio, "ratio", lo=0, hi=None, lo_open=True))

    @property
    def name(self) -> str:
        """``"alternating-gd"`` or ``"simultaneous-gd"``."""
        return "alternating-gd" if self.alternating else "simultaneous-gd"

    def step_map(self, h: sp.Symbol | None = None) -> StepMap:
        """One round of both players' updates, as a step map in (x, y)."""
        h = sp.Symbol("h") if h is None else h
        gx = [sp.diff(self.L1, v) for v in self.x]
        x_new = [v - h * g for v, g in zip(self.x, gx, strict=True)]
        sub = dict(zip(self.x, x_new, strict=True)) if self.alternating else {}
        gy = [sp.diff(self.L2, v).subs(sub, simultaneous=True) for v in self.y]
        y_new = [v - self.ratio * h * g for v, g in zip(self.y, gy, strict=True)]
        return StepMap(sp.Matrix(x_new + y_new), self.x + self.y, h, self.name)

    def flow(self, h: sp.Symbol | None = None, order: int = 1) -> ModifiedFlow:
        """The modified flow of the game in (x, y), to ``order`` (Taylor route)."""
        step = self.step_map(h)
        if h is not None and h in (self.L1.free_symbols | self.L2.free_symbols):
            raise InputError(f"the step size {h} cannot appear in the losses")
        flow = modified_equation(step.step, step.state, step.h, order)
        return dataclasses.replace(flow, method=self.name)
