"""Implicit and explicit gradient regularization on a :class:`~bea.deep.problem.Problem`.

* :func:`r_ig` — R_IG(θ) = ‖∇E(θ)‖²/m (Barrett & Dherin 2021);
* :func:`igr_loss` — the order-1 modified loss of GD, E + (h/4)‖∇E‖² = E + λ R_IG with λ = hm/4;
* :func:`first_order_loss` — the order-1 modified loss s·E + c·h‖∇E‖² of any method whose
  modified loss has that form (GD, heavy ball, Nesterov, proximal point, extragradient), with s
  and c taken from bea's exact symbolic derivation (heavy ball in step time:
  s = 1/(1 − β), c = (1 + β)/(4(1 − β)³));
* :func:`egr_gradient` — the gradient of explicit gradient regularization E + μ R_IG:
  ∇E + (2μ/m)∇²E∇E, by one forward-over-reverse HVP or by finite differences of the gradient
  (Geiping et al. 2022: ε = 0.01/‖∇E‖);
* :func:`sgd_loss` — shuffled SGD's order-1 modified loss C + (h/4M) Σ_k ‖∇Ĉ_k‖²;
* :func:`stability_edge` — 2/λ_max of the Hessian.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from ..derive import modified_loss
from ..errors import BeaError, InputError
from ..optim import resolve_method
from .backend import require, scope
from .differentials import top_eigenvalue
from .problem import Problem

__all__ = [
    "egr_gradient",
    "first_order_loss",
    "igr_loss",
    "penalty_coefficients",
    "r_ig",
    "sgd_loss",
    "stability_edge",
]


def _check(problem) -> Problem:
    if not isinstance(problem, Problem):
        raise InputError("expected a bea.deep Problem (see bea.deep.problem)")
    return problem


def _number(x, what: str, positive: bool = False) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {x!r}") from None
    if not np.isfinite(x) or x < 0 or (positive and x == 0):
        raise InputError(f"{what} must be {'positive' if positive else 'non-negative'}, got {x}")
    return x


def r_ig(problem: Problem, theta) -> float:
    """R_IG(θ) = ‖∇E(θ)‖²/m.

    Examples
    --------
    >>> prob = Problem.from_function(lambda t: 0.5 * (t[0] ** 2 + 3 * t[1] ** 2), [1.0, 1.0])
    >>> r_ig(prob, prob.theta0)      # (1² + 3²)/2
    5.0
    """
    g = _check(problem).gradient(theta)
    return float(g @ g / problem.m)


def igr_loss(problem: Problem, h: float) -> Callable:
    """The order-1 modified loss of gradient descent, θ ↦ E(θ) + (h/4)‖∇E(θ)‖² (a JAX function).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> prob = Problem.from_function(lambda t: 0.5 * t[0] ** 2, [2.0])
    >>> round(float(igr_loss(prob, 0.1)(jnp.array([2.0]))), 6)  # 2 + 0.025·4
    2.1
    """
    h = _number(h, "the step size h", positive=True)
    _check(problem)
    jax = require()
    grad = jax.grad(problem.energy)

    def loss(theta):
        g = grad(theta)
        return problem.energy(theta) + 0.25 * h * jax.numpy.vdot(g, g)

    return loss


def penalty_coefficients(method="gd") -> tuple:
    """(s, c) of a method's order-1 modified loss s·E + c·h‖∇E‖², from bea's exact derivation.

    The form is checked on a second loss: a method whose order-1 modified loss is not of this form
    (Adam, RMSProp: a preconditioned penalty) is refused.

    Examples
    --------
    >>> from bea.optim import HeavyBall
    >>> penalty_coefficients("gd")
    (1, 1/4)
    >>> penalty_coefficients(HeavyBall("0.9"))
    (10, 475)
    """
    a, b, h = sp.symbols("a b h")
    method = resolve_method(method, (a, b), h)
    test = a**4 / 4 + a * b**2
    try:
        quad = sp.expand(modified_loss(a**2 / 2, [a], order=1, method=method, h=h))
        got = modified_loss(test, [a, b], order=1, method=method, h=h)
    except BeaError as err:  # e.g. Adam: f₀ is not a gradient field
        raise InputError(
            f"{method.name} has no order-1 modified loss s·E + c·h‖∇E‖²: {err}"
        ) from None
    s = quad.coeff(h, 0).coeff(a, 2) * 2
    c = quad.coeff(h, 1).coeff(a, 2)
    want = s * test + c * h * (sp.diff(test, a) ** 2 + sp.diff(test, b) ** 2)
    if sp.simplify(sp.expand(got - want)) != 0:
        raise InputError(f"the order-1 modified loss of {method.name} is not s·E + c·h‖∇E‖²")
    if (s.free_symbols | c.free_symbols) - {h}:
        raise InputError(f"give {method.name} numeric hyper-parameters")
    return s, c


def first_order_loss(problem: Problem, h: float, method="gd") -> Callable:
    """θ ↦ s·E(θ) + c·h‖∇E(θ)‖², the order-1 modified loss of ``method`` (see
    :func:`penalty_coefficients`), as a JAX function.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from bea.optim import HeavyBall
    >>> prob = Problem.from_function(lambda t: 0.5 * t[0] ** 2, [1.0])
    >>> round(float(first_order_loss(prob, 0.01, HeavyBall("0.5"))(jnp.array([1.0]))), 6)
    1.03
    """
    h = _number(h, "the step size h", positive=True)
    s, c = (float(x) for x in penalty_coefficients(method))
    jax = require()
    grad = jax.grad(_check(problem).energy)

    def loss(theta):
        g = grad(theta)
        return s * problem.energy(theta) + c * h * jax.numpy.vdot(g, g)

    return loss


def egr_gradient(problem: Problem, mu: float, mode: str = "exact") -> Callable:
    """θ ↦ ∇(E + μ R_IG)(θ) = ∇E + (2μ/m)∇²E∇E, a JAX function.

    Parameters
    ----------
    mode : {"exact", "forward", "central"}
        ``"exact"``: one forward-over-reverse HVP; ``"forward"``/``"central"``: finite differences
        of the gradient along ∇E with ε = 0.01/‖∇E‖ (one or two extra gradients).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> prob = Problem.from_function(lambda t: 0.5 * 3 * t[0] ** 2, [1.0])
    >>> egr_gradient(prob, 0.5)(jnp.array([1.0])).tolist()   # 3 + 2·0.5·3·3
    [12.0]
    """
    mu = _number(mu, "μ")
    if mode not in ("exact", "forward", "central"):
        raise InputError(f"mode must be 'exact', 'forward' or 'central', got {mode!r}")
    jax = require()
    jnp = jax.numpy
    grad = jax.grad(_check(problem).energy)
    scale = 2.0 * mu / problem.m

    def gradient(theta):
        g = grad(theta)
        if mode == "exact":
            hg = jax.jvp(grad, (theta,), (g,))[1]
        else:
            eps = 0.01 / (jnp.linalg.norm(g) + jnp.finfo(g.dtype).tiny)
            if mode == "forward":
                hg = (grad(theta + eps * g) - g) / eps
            else:
                hg = (grad(theta + eps * g) - grad(theta - eps * g)) / (2 * eps)
        return g + scale * hg

    return gradient


def sgd_loss(problem: Problem, h: float, batch_size: int) -> Callable:
    """θ ↦ C(θ) + (h/4M) Σ_k ‖∇Ĉ_k(θ)‖², the order-1 modified loss of one epoch of randomly
    shuffled SGD over M = n // batch_size mini-batches Ĉ_k (consecutive slices of the training
    batch; C is their mean), in the time of single steps (Smith, Dherin, Barrett & De 2021; bea's
    exact derivation :class:`bea.optim.SGD` gives the same). A JAX function.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> x = np.array([[1.0], [2.0]])
    >>> prob = Problem.from_loss(lambda p, b: 0.5 * jnp.mean((p["w"] * b[0][:, 0]) ** 2),
    ...                          {"w": np.ones(1)}, (x,))
    >>> round(float(sgd_loss(prob, 0.1, 1)(jnp.array([1.0]))), 6)  # 1.25 + 0.1/8·(1 + 16)
    1.4625
    """
    h = _number(h, "the step size h", positive=True)
    jax = require()
    jnp = jax.numpy
    leaves = jax.tree_util.tree_leaves(_check(problem).train)
    if not leaves:
        raise InputError("sgd_loss needs a problem with a training batch")
    n = int(np.asarray(leaves[0]).shape[0])
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= n:
        raise InputError(f"batch_size must be a whole number in [1, {n}], got {batch_size!r}")
    n_batches = n // batch_size
    batches = [
        jax.tree_util.tree_map(
            lambda a, k=k: a[k * batch_size : (k + 1) * batch_size], problem.train
        )
        for k in range(n_batches)
    ]

    def loss(theta):
        values, norms = [], []
        for batch in batches:
            value, g = jax.value_and_grad(problem.batch_loss)(theta, batch)
            values.append(value)
            norms.append(jnp.vdot(g, g))
        return sum(values) / n_batches + h / (4 * n_batches) * sum(norms)

    return loss


def stability_edge(problem: Problem, theta) -> float:
    """2/λ_max, GD's largest stable step size near θ (λ_max by power iteration on HVPs).

    Examples
    --------
    >>> prob = Problem.from_function(lambda t: 0.5 * (4 * t[0] ** 2 + t[1] ** 2), [1.0, 1.0])
    >>> round(stability_edge(prob, prob.theta0), 6)
    0.5
    """
    with scope():
        lam = top_eigenvalue(_check(problem).energy, problem.cast(theta))
    if lam <= 0:
        raise InputError("the Hessian has no positive eigenvalue here: no stability edge")
    return 2.0 / lam
