"""Numeric modified flows of neural networks: the terms f₀ … f_p of θ̇ = f₀ + h f₁ + h² f₂ + … at a
parameter vector θ, by automatic differentiation.

Two routes, as in bea's exact engine, which must agree where both apply:

* **tree** — for methods with a B-series (GD is explicit Euler on f = −∇E; the Runge–Kutta
  library; proximal point = implicit Euler; extragradient; heavy ball and Nesterov through the
  B-series of their underlying one-step method, :func:`bea.bseries.relation_modified_equation`).
  The exact coefficients b(τ)/σ(τ) come from :mod:`bea.bseries`; each elementary differential
  F(τ)(θ) is nested ``jax.jvp`` of the gradient, every shared subtree computed once.
* **lie** — for any step map Φ(θ, h) written as a JAX function: its Taylor coefficients
  d_n = (1/n!)∂ₕⁿΦ at h = 0 (Taylor mode, :func:`~bea.deep.differentials.taylor_in_h`), then bea's
  recurrence f_{n−1} = d_n − Σ_{k=2}^{n} c_k[n−k]/k!, where c₁ = f̃ and c_k = c_{k−1}′ f̃, each
  "′ f_j" one jvp. Implicit steps (proximal point, implicit Runge–Kutta) are written as n + 1
  fixed-point iterations from θ, which leave the first n + 1 Taylor coefficients exact.

How to add a method: one entry in :data:`RULES` — a function of the method object returning a
:class:`Rule` (its B-series for the tree route and/or its JAX step for the Lie route).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .._checks import check_order
from ..bseries import (
    METHODS,
    LinearRelation,
    RungeKutta,
    heavy_ball,
    modified_equation,
    nesterov,
    relation_modified_equation,
    rk,
)
from ..bseries.algebra import as_sympy
from ..bseries.trees import symmetry, trees
from ..errors import InputError
from ..optim import (
    GD,
    OPTIMIZERS,
    Adam,
    Extragradient,
    HeavyBall,
    Nesterov,
    Optimizer,
    ProximalPoint,
    RMSProp,
)
from .backend import require, scope
from .differentials import taylor_in_h, tree_differentials
from .problem import Problem

__all__ = ["RULES", "Epoch", "NumericModifiedFlow", "Rule", "modified_flow"]


@dataclass(frozen=True)
class Rule:
    """What a method contributes: ``bseries(n)`` → the modified field's B-series to n nodes (tree
    route), ``step(field, θ, h, n)`` → Φ(θ, h) as a JAX expression exact to O(hⁿ⁺¹) (Lie
    route), for methods with memory the ``relation`` they iterate, and for methods with fast
    variables ``fast = (start(field, θ, h, n) → state on the slow manifold to O(hⁿ),
    advance(field, state, h) → state)``, the real iteration (verification). Any may be None.
    ``time_scale`` = c when ``step`` advances time c·h (an epoch of c mini-batch steps): the
    terms are reported in the time of single steps, f_j = cʲ F_j."""

    name: str
    bseries: Callable | None = None
    step: Callable | None = None
    relation: LinearRelation | None = None
    fast: tuple | None = None
    time_scale: int = 1


def _rk_rule(rk) -> Rule:
    def step(field, theta, h, n):
        s = rk.stages
        a = [[float(rk.A[i, j]) for j in range(s)] for i in range(s)]
        b = [float(x) for x in rk.b]

        def sweep(ks):
            return [
                field(theta + h * sum(a[i][j] * ks[j] for j in range(s) if a[i][j]))
                for i in range(s)
            ]

        ks = [field(theta)] * s
        if rk.explicit:
            for _ in range(s):
                ks = sweep(ks)
        elif n <= 8:  # unrolled: Taylor mode and jvp see every sweep (one exact order each)
            for _ in range(n + 1):
                ks = sweep(ks)
        else:  # many sweeps (solving the step): one loop in the compiled program
            ks = require().lax.fori_loop(0, n, lambda _, k: sweep(k), ks)
        return theta + h * sum(bj * k for bj, k in zip(b, ks, strict=True) if bj)

    return Rule(rk.name, lambda n: modified_equation(rk.bseries(n), n), step)


def _relation_rule(relation) -> Rule:
    return Rule(relation.name, lambda n: relation_modified_equation(relation, n), None, relation)


def _numbers(method, names) -> list[float]:
    out = []
    for name in names:
        value = getattr(method, name)
        try:
            out.append(float(value))
        except TypeError:
            raise InputError(
                f"{method.name}: give numeric hyper-parameters ({name} is {value})"
            ) from None
    return out


def _adaptive_rule(method) -> Rule:
    """Adam/RMSProp on their slow manifold (Lie route).

    The moments w = (m, v) before a step are slaved to θ, w = W(θ, h) = Σ hᵏ W_k(θ), by
    invariance: W(Ψ_h(θ), h) = B W(θ, h) + (I − B) G(θ) with G = (g, g²), B = diag(β₁, β₂) and
    Ψ_h(θ) = Φ_h(θ, W(θ, h)) the step on the manifold. Equivalently W = G + (W − W∘Ψ_h)/(I − B),
    and since W − W∘Ψ_h = O(h) times the error of W, each sweep of that map, started from
    W = G, gains one order in h: n − 1 sweeps give W to O(hⁿ), and Ψ_h (where the moments enter
    with a factor h) to O(hⁿ⁺¹), as an explicit function of (θ, h) with 2ⁿ⁻¹ gradient calls.
    Ψ_h is then a one-step map of θ, and the Lie route gives its modified flow. Verification
    iterates the real optimizer on (θ, m, v) from a start on the manifold (``fast``).
    """
    b1, b2, eps = _numbers(method, ("beta1", "beta2", "eps"))

    def parts(field, theta):
        jnp = require().numpy
        m = theta.shape[-1]
        B = jnp.concatenate([jnp.full(m, b1, theta.dtype), jnp.full(m, b2, theta.dtype)])

        def G(t):
            g = -field(t)
            return jnp.concatenate([g, g * g])

        def update(t, w, hh):  # (θ', moments after the step) from θ and the moments before it
            new = B * w + (1 - B) * G(t)
            return t - hh * new[:m] / jnp.sqrt(new[m:] + eps), new

        def phi(t, w, hh):
            return update(t, w, hh)[0]

        return B, G, update, phi

    def moments(field, theta, h, n):
        """W(θ, h) to O(hⁿ): n − 1 sweeps of W ← G + (W − W∘Ψ_h)/(I − B) from W = G."""
        B, G, _, phi = parts(field, theta)

        def sweep(w):
            def new(t):
                here = w(t)
                return G(t) + (here - w(phi(t, here, h))) / (1 - B)

            return new

        w = G
        for _ in range(n - 1):
            w = sweep(w)
        return w(theta)

    def step(field, theta, h, n):  # W to order n − 1 makes Ψ exact to O(hⁿ⁺¹)
        return parts(field, theta)[3](theta, moments(field, theta, h, n), h)

    def start(field, theta, h, n):
        return theta, moments(field, theta, h, n)

    def advance(field, state, h):
        return parts(field, state[0])[2](state[0], state[1], h)

    return Rule(method.name, None, step, fast=(start, advance))


def _optimizer_rule(method) -> Rule:
    if type(method) in (Adam, RMSProp):  # not subclasses: AdamW's step differs (no rule yet)
        return _adaptive_rule(method)
    if isinstance(method, Nesterov):
        return _named(_relation_rule(nesterov(method.beta, method.time)), method.name)
    if isinstance(method, HeavyBall):
        return _named(_relation_rule(heavy_ball(method.beta, method.time)), method.name)
    table = {
        GD: rk.EXPLICIT_EULER,
        ProximalPoint: rk.IMPLICIT_EULER,
        Extragradient: rk.RungeKutta([[0, 0], [1, 0]], [0, 1], name="extragradient"),
    }
    for cls, tableau in table.items():
        if type(method) is cls:
            return _named(_rk_rule(tableau), method.name)
    raise InputError(
        f"bea.deep has no rule for {method.name}; give its step as a JAX function "
        "step(theta, h, grad) (Lie route)"
    )


def _named(rule: Rule, name: str) -> Rule:
    return Rule(name, rule.bseries, rule.step, rule.relation, rule.fast, rule.time_scale)


@dataclass(frozen=True, eq=False)
class Epoch:
    """One epoch of mini-batch gradient descent on a problem's training batch (SGD as
    :class:`bea.optim.SGD` analyses it): the batch is cut into m contiguous mini-batches of
    ``batch_size`` examples, C_k their losses (E = mean C_k), and an epoch is m steps
    θ ← θ − h∇C_k(θ). The modified flow is in the time of single steps (an epoch is time m h).

    Parameters
    ----------
    problem : Problem
        Its training batch is a pytree of arrays with the examples on axis 0, and its loss a mean
        over examples.
    batch_size : int
        Must divide the number of training examples.
    shuffle : bool or int
        False: the mini-batches in their order; True: the mean iterate over all m! orders
        (random shuffling, m ≤ 6); an int K: the mean over K random orders (seeded).
    seed : int

    Examples
    --------
    Two examples of (y − abx)²/2, one per mini-batch: Smith et al.'s f₁ is that of GD plus the
    mean of the mini-batch gradient terms.

    >>> import numpy as np, jax.numpy as jnp
    >>> from bea.deep import Problem
    >>> def loss(p, batch):
    ...     x, y = batch
    ...     return jnp.mean((y - p[0] * p[1] * x) ** 2) / 2
    >>> prob = Problem.from_loss(loss, np.array([1.0, 0.5]),
    ...                          (np.array([1.0, 2.0]), np.array([0.6, 0.3])))
    >>> flow = modified_flow(prob, Epoch(prob, 1, shuffle=True), order=1)
    >>> flow.terms(prob.theta0).shape
    (2, 2)
    """

    problem: Problem
    batch_size: int
    shuffle: bool | int = False
    seed: int = 0

    @property
    def name(self) -> str:
        """``sgd`` with the batch size and the order rule."""
        kind = {False: "fixed order", True: "mean over orders"}.get(
            self.shuffle, f"mean over {self.shuffle} random orders"
        )
        return f"sgd (batch {self.batch_size}, {kind})"


def _epoch_rule(epoch: Epoch) -> Rule:
    jax = require()
    problem = epoch.problem
    if not isinstance(problem, Problem):
        raise InputError("Epoch takes a bea.deep Problem")
    leaves = jax.tree_util.tree_leaves(problem.train)
    n = int(np.shape(leaves[0])[0]) if leaves and np.ndim(leaves[0]) else 0
    size = epoch.batch_size
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or not 1 <= size <= n:
        raise InputError(f"batch_size must be a whole number in [1, {n}], got {size!r}")
    if n % size:
        raise InputError(f"batch_size {size} does not divide the {n} training examples")
    m = n // size
    if epoch.shuffle is True:
        if m > 6:
            raise InputError(f"{m} mini-batches have {m}! orders: give shuffle=K random orders")
        orders = list(itertools.permutations(range(m)))
    elif epoch.shuffle is False:
        orders = [tuple(range(m))]
    elif isinstance(epoch.shuffle, int) and 1 <= epoch.shuffle <= 10_000:
        rng = np.random.default_rng(epoch.seed)
        orders = [tuple(rng.permutation(m)) for _ in range(epoch.shuffle)]
    else:
        raise InputError(
            f"shuffle must be True, False or a number of orders, got {epoch.shuffle!r}"
        )
    batches = [
        jax.tree_util.tree_map(lambda a, k=k: a[k * size : (k + 1) * size], problem.train)
        for k in range(m)
    ]

    def step(field, theta, h, n_terms):  # one epoch in time h: m steps of h/m
        grads = [jax.grad(lambda t, b=b: problem.batch_loss(t, b)) for b in batches]
        ends = []
        for order in orders:
            t = theta
            for k in order:
                t = t - (h / m) * grads[k](t)
            ends.append(t)
        return sum(ends) / len(ends)

    return Rule(epoch.name, None, step, time_scale=m)


#: Method type → rule maker (one entry per kind of method; see the module docstring).
RULES: dict = {
    RungeKutta: _rk_rule,
    LinearRelation: _relation_rule,
    Optimizer: _optimizer_rule,
    Epoch: _epoch_rule,
}


def resolve_rule(method) -> Rule:
    """The :class:`Rule` of a method: a registry name of :data:`bea.optim.OPTIMIZERS` or of the
    Runge–Kutta library, an optimizer, a Runge–Kutta method, a linear relation, or a JAX step
    function ``step(theta, h, grad)``."""
    if isinstance(method, str):
        if method in OPTIMIZERS:
            method = OPTIMIZERS[method]
        elif method in METHODS:
            method = METHODS[method]
        else:
            known = ", ".join([*OPTIMIZERS, *METHODS])
            raise InputError(f"unknown method {method!r}; known: {known}")
    if callable(method) and not isinstance(method, type):
        for cls, make in RULES.items():
            if isinstance(method, cls):
                return make(method)
        user = method
        return Rule(
            getattr(user, "__name__", "step"), None, lambda f, t, h, n: user(t, h, lambda x: -f(x))
        )
    for cls, make in RULES.items():
        if isinstance(method, cls):
            return make(method)
    raise InputError(f"unknown method {method!r}")


def _tree_coefficients(rule: Rule, order: int) -> list[list[tuple]]:
    """[(tree, b(τ)/σ(τ) as float)] grouped by term index j = |τ| − 1."""
    b = rule.bseries(order + 1)
    groups = []
    for n in range(1, order + 2):
        row = []
        for t in trees(n):
            c = b.raw(t)
            if not isinstance(c, Fraction):
                c = as_sympy(c)
                if c.free_symbols:
                    raise InputError(
                        f"{rule.name}: give numeric hyper-parameters (the coefficient of a tree "
                        f"is {c})"
                    )
                c = Fraction(str(c)) if c.is_Rational else float(c)
            if c != 0:
                row.append((t, float(Fraction(c) / symmetry(t))))
        groups.append(row)
    return groups


class NumericModifiedFlow:
    """The modified flow of a method on a :class:`~bea.deep.problem.Problem`, evaluated by
    automatic differentiation (see :func:`modified_flow`).

    Attributes
    ----------
    problem : Problem
    order : int
        Highest term f_p.
    route : str
        ``"tree"`` or ``"lie"``.
    name : str
        The method's name.
    """

    def __init__(self, problem: Problem, rule: Rule, order: int, route: str):
        self.problem, self.rule, self.order, self.route, self.name = (
            problem,
            rule,
            order,
            route,
            rule.name,
        )
        self._coeffs = None
        self._jitted: dict = {}

    # -- JAX expressions (use inside scope / jit) --------------------------------------------
    def _field0(self):
        jax = require()
        grad = jax.grad(self.problem.energy)
        return lambda t: -grad(t)

    def jax_terms(self, theta, route: str | None = None) -> list:
        """[f₀(θ), …, f_p(θ)] as JAX arrays (for use inside ``jax.jit``; see :func:`scope`)."""
        route = route or self.route
        f = self._field0()
        if route == "tree":
            if self._coeffs is None:
                self._coeffs = _tree_coefficients(self.rule, self.order)
            wanted = [t for row in self._coeffs for t, _ in row]
            F = tree_differentials(f, theta, wanted)
            return [
                sum((c * F[t] for t, c in row), require().numpy.zeros_like(theta))
                for row in self._coeffs
            ]
        c = self.rule.time_scale
        return [c**j * fj for j, fj in enumerate(self._lie_terms(f, theta))]

    def _lie_terms(self, f, theta) -> list:
        jax = require()
        n_max = self.order + 1
        step = self.rule.step
        memo: dict = {}  # (name, id(point)) → (point, value): one evaluation per point and trace

        def shared(name, fun):
            def wrapped(t):
                key = (name, id(t))
                if key not in memo:
                    memo[key] = (t, fun(t))
                return memo[key][1]

            return wrapped

        coefficients = shared(
            "d", lambda t: taylor_in_h(lambda x, h: step(f, x, h, n_max), t, n_max)
        )

        def d(n):
            return lambda t: coefficients(t)[n - 1]

        fs: dict = {}
        cs: dict = {}

        def c(k, j):  # [h^j] of c_k, c_1 = f̃, c_k = c_{k−1}′ f̃
            if k == 1:
                return fs[j]
            if (k, j) not in cs:
                parts = [(c(k - 1, a), fs[j - a]) for a in range(j + 1)]
                cs[(k, j)] = shared(
                    ("c", k, j),
                    lambda t, parts=parts: sum(jax.jvp(g, (t,), (fb(t),))[1] for g, fb in parts),
                )
            return cs[(k, j)]

        from math import factorial

        def term(dn, corrections):  # f_{n−1} = d_n − Σ_k c_k[n−k]/k!
            return lambda t: dn(t) - sum((g(t) / kf for g, kf in corrections), 0.0)

        for n in range(1, n_max + 1):
            corrections = [(c(k, n - k), factorial(k)) for k in range(2, n + 1)]
            fs[n - 1] = shared(("f", n - 1), term(d(n), corrections))
        return [fs[j](theta) for j in range(n_max)]

    # -- NumPy API -----------------------------------------------------------------------------
    def _compiled(self, route: str):
        if route not in self._jitted:
            jax = require()
            self._jitted[route] = jax.jit(lambda t: require().numpy.stack(self.jax_terms(t, route)))
        return self._jitted[route]

    def _check_route(self, route):
        route = route or self.route
        if route not in ("tree", "lie"):
            raise InputError(f"route must be 'tree' or 'lie', got {route!r}")
        if route == "tree" and self.rule.bseries is None:
            raise InputError(f"{self.name} has no B-series: only the Lie route applies")
        if route == "lie" and self.rule.step is None:
            raise InputError(f"{self.name} is not a one-step map of θ: only the tree route applies")
        return route

    def terms(self, theta, h: float = 1.0, *, route: str | None = None) -> np.ndarray:
        """The scaled terms hʲ f_j(θ), j = 0 … p, as an array of shape (p + 1, m) (with the
        default h = 1: the terms f_j themselves).

        Examples
        --------
        >>> import numpy as np
        >>> from bea.deep import Problem
        >>> prob = Problem.from_function(lambda t: 0.5 * t[0] ** 2, [1.0])
        >>> modified_flow(prob, order=2).terms(prob.theta0).ravel().tolist()  # −θ, −θ/2, −θ/3
        [-1.0, -0.5, -0.3333333333333333]
        """
        route = self._check_route(route)
        h = _step_size(h)
        with scope():
            raw = np.asarray(self._compiled(route)(self.problem.cast(theta)))
        return raw * (h ** np.arange(self.order + 1))[:, None]

    def field(self, theta, h: float, p: int | None = None, *, route: str | None = None):
        """The truncated modified field f₀ + h f₁ + … + hᵖ f_p at θ (p defaults to the order).

        Examples
        --------
        >>> from bea.deep import Problem
        >>> prob = Problem.from_function(lambda t: 0.5 * t[0] ** 2, [1.0])
        >>> modified_flow(prob, order=1).field(prob.theta0, 0.1).tolist()  # −(1 + h/2)θ
        [-1.05]
        """
        p = self.order if p is None else check_order(p, maximum=self.order, what="p")
        return self.terms(theta, h, route=route)[: p + 1].sum(axis=0)

    def check_routes(self, theta, h: float = 1.0) -> dict[int, float]:
        """Relative difference ‖tree − lie‖/‖tree‖ of each term hʲ f_j (both routes must apply);
        a term that vanishes (‖hʲ f_j‖ ≤ 1e-10 ‖f₀‖, e.g. f₁ of a second-order method) is compared
        relative to ‖f₀‖.

        Examples
        --------
        >>> from bea.deep import Problem
        >>> prob = Problem.from_function(lambda t: (0.6 - t[0] * t[1]) ** 2 / 2, [2.8, 3.5])
        >>> max(modified_flow(prob, order=3).check_routes(prob.theta0).values()) < 1e-12
        True
        """
        a = self.terms(theta, h, route=self._check_route("tree"))
        b = self.terms(theta, h, route=self._check_route("lie"))
        norms = np.linalg.norm(a, axis=1)
        scale = np.where(norms > 1e-10 * norms[0], norms, max(norms[0], np.finfo(float).tiny))
        return {j: float(np.linalg.norm(a[j] - b[j]) / scale[j]) for j in range(self.order + 1)}

    def __repr__(self) -> str:
        return (
            f"NumericModifiedFlow({self.name}, order={self.order}, route={self.route!r}, "
            f"m={self.problem.m})"
        )


def _step_size(h) -> float:
    try:
        h = float(h)
    except (TypeError, ValueError):
        raise InputError(f"the step size must be a number, got {h!r}") from None
    if not np.isfinite(h) or h <= 0:
        raise InputError(f"the step size must be positive and finite, got {h}")
    return h


def modified_flow(
    problem: Problem, method="gd", order: int = 2, *, route: str | None = None
) -> NumericModifiedFlow:
    """The modified flow of ``method`` on ``problem`` to order ``order``, by automatic
    differentiation.

    Parameters
    ----------
    problem : Problem
    method : str or method object
        ``"gd"`` (default), a name of :data:`bea.optim.OPTIMIZERS` or of the Runge–Kutta library
        (:data:`bea.bseries.METHODS`), an optimizer instance with numeric hyper-parameters (e.g.
        ``HeavyBall("0.9", time="effective")``), or a step ``step(theta, h, grad)`` written with
        ``jax.numpy`` (Lie route only).
    order : int
        Highest term f_p (p ≤ 6).
    route : {"tree", "lie"}, optional
        Default: the tree route where the method has a B-series, else the Lie route.

    Returns
    -------
    NumericModifiedFlow

    Examples
    --------
    On E = θ²/2 gradient descent θ' = (1 − h)θ follows θ̇ = log(1 − h)/h · θ
    = −(1 + h/2 + h²/3 + …)θ, so f₀ = −θ, f₁ = −θ/2, f₂ = −θ/3:

    >>> from bea.deep import Problem
    >>> prob = Problem.from_function(lambda t: 0.5 * t[0] ** 2, [2.0])
    >>> modified_flow(prob, "gd", 2).terms(prob.theta0).ravel().tolist()
    [-2.0, -1.0, -0.6666666666666666]
    """
    if not isinstance(problem, Problem):
        raise InputError("modified_flow takes a bea.deep Problem (see bea.deep.problem)")
    order = check_order(order, maximum=6)
    rule = resolve_rule(method)
    if route is None:
        route = "tree" if rule.bseries is not None else "lie"
    flow = NumericModifiedFlow(problem, rule, order, route)
    flow._check_route(route)
    return flow
