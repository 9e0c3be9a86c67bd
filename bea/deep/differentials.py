"""Derivatives of E by automatic differentiation: Hessian–vector products, mixed higher
derivatives, the elementary differentials F(τ) of B-series trees, Taylor coefficients in h, and
the top Hessian eigenvalue.

For the gradient field f = −∇E, a tree τ = [τ₁, …, τ_k] has the elementary differential
F(τ) = f⁽ᵏ⁾(F(τ₁), …, F(τ_k)) = −∇ᵏ⁺¹E[F(τ₁), …, F(τ_k)]. Each k-th derivative in k directions is
k nested forward-mode ``jax.jvp`` of the gradient (an HVP is one level); :func:`tree_differentials`
evaluates a whole set of trees with every shared subtree computed once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from .backend import require

__all__ = [
    "derivative",
    "hvp",
    "lambda_max",
    "spectral_radius",
    "taylor_in_h",
    "top_eigenvalue",
    "tree_differentials",
]


def hvp(energy: Callable, theta, v, mode: str = "forward"):
    """∇²E(θ)·v: forward-over-reverse (``mode="forward"``, default) or reverse-over-reverse.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> E = lambda t: t[0] ** 2 * t[1]
    >>> hvp(E, jnp.array([1.0, 2.0]), jnp.array([1.0, 0.0])).tolist()
    [4.0, 2.0]
    """
    jax = require()
    grad = jax.grad(energy)
    if mode == "forward":
        return jax.jvp(grad, (theta,), (v,))[1]
    if mode == "reverse":
        return jax.grad(lambda t: jax.numpy.vdot(grad(t), v))(theta)
    raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")


def derivative(field: Callable, theta, directions: Iterable):
    """The k-th derivative of a vector field in k directions, f⁽ᵏ⁾(θ)[v₁, …, v_k], by nested jvp.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = lambda t: -3 * t**2            # f = −∇E for E = Σ t³
    >>> derivative(f, jnp.array([2.0]), [jnp.array([1.0]), jnp.array([1.0])]).tolist()
    [-6.0]
    """
    jax = require()
    fun = field
    for v in directions:
        fun = (lambda g, d: lambda t: jax.jvp(g, (t,), (d,))[1])(fun, v)
    return fun(theta)


def tree_differentials(field: Callable, theta, wanted: Iterable) -> dict:
    """F(τ)(θ) for every tree in ``wanted`` (bea's tree encoding, see :mod:`bea.bseries.trees`),
    each subtree computed once.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = lambda t: t**2                 # y′ = y²: F(•) = y², F([•]) = 2y³, F([•,•]) = 2y⁴
    >>> F = tree_differentials(f, jnp.array([3.0]), [(), ((),), ((), ())])
    >>> [F[t].tolist() for t in [(), ((),), ((), ())]]
    [[9.0], [54.0], [162.0]]
    """
    memo: dict = {}

    def F(t):
        if t not in memo:
            memo[t] = field(theta) if t == () else derivative(field, theta, [F(c) for c in t])
        return memo[t]

    return {t: F(t) for t in wanted}


def taylor_in_h(step: Callable, theta, n: int, *, use_jet: bool = True) -> list:
    """Taylor coefficients d_k = (1/k!) ∂ₕᵏ Φ(θ, h) at h = 0, k = 1 … n, of a step map Φ(θ, h).

    Taylor mode (``jax.experimental.jet``) when it covers the step's primitives, else nested jvp
    in h.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> step = lambda t, h: t * jnp.exp(h)
    >>> [round(float(d[0]), 6) for d in taylor_in_h(step, jnp.array([1.0]), 3)]
    [1.0, 0.5, 0.166667]
    """
    jax = require()
    jnp = jax.numpy
    zero = jnp.zeros((), dtype=theta.dtype)
    if use_jet:
        try:
            from jax.experimental.jet import jet

            one = jnp.ones((), dtype=theta.dtype)
            series = [one] + [zero] * (n - 1)
            _, coeffs = jet(lambda h: step(theta, h), (zero,), (series,))
            return [c / math.factorial(k + 1) for k, c in enumerate(coeffs)]
        except (NotImplementedError, TypeError, KeyError):
            pass
    out, fun = [], (lambda h: step(theta, h))
    for k in range(1, n + 1):
        fun = (lambda g: lambda h: jax.jvp(g, (h,), (jnp.ones_like(h),))[1])(fun)
        out.append(fun(zero) / math.factorial(k))
    return out


def lambda_max(energy: Callable, theta, *, iterations: int = 200, seed: int = 0):
    """λ_max of ∇²E(θ) as a JAX scalar, traceable (usable inside ``jax.jit``): power iteration on
    HVPs, then a second pass on ∇²E − μI with μ = min(first estimate, 0), which finds the top of
    the spectrum where a negative eigenvalue dominates in magnitude (and repeats the first pass
    otherwise).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> E = lambda t: 0.5 * (3 * t[0] ** 2 + t[1] ** 2 - 5 * t[2] ** 2)
    >>> round(float(jax.jit(lambda t: lambda_max(E, t))(jnp.array([1.0, 1.0, 1.0]))), 5)
    3.0
    """
    jax = require()
    jnp = jax.numpy
    grad = jax.grad(energy)

    def power(shift):
        def apply(v):
            return jax.jvp(grad, (theta,), (v,))[1] - shift * v

        def body(_, v):
            w = apply(v)
            return w / (jnp.linalg.norm(w) + jnp.finfo(theta.dtype).tiny)

        v0 = jax.random.normal(jax.random.PRNGKey(seed), theta.shape, dtype=theta.dtype)
        v = jax.lax.fori_loop(0, iterations, body, v0 / jnp.linalg.norm(v0))
        return jnp.vdot(v, apply(v))

    shift = jnp.minimum(power(0.0), 0.0)
    return power(shift) + shift


def spectral_radius(field: Callable, theta, *, iterations: int = 200, seed: int = 0):
    """The size of the Jacobian ∂f(θ) of a vector field, as a JAX scalar, traceable: ‖Jv‖ after
    power iteration on JVPs (the spectral radius when the dominant eigenvalue is real and simple,
    as for −∇²E, the preconditioned −P∇²E of adaptive methods, or (−∇²E)/(1 − β)).

    It sets the scale of step sizes at which a method's expansion in h is useful: h·ρ ≲ 1.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> f = lambda t: -jnp.array([3.0, 1.0, -5.0]) * t / (1.0 + 0.0 * t)
    >>> round(float(jax.jit(lambda t: spectral_radius(f, t))(jnp.ones(3))), 5)
    5.0
    """
    jax = require()
    jnp = jax.numpy

    def apply(v):
        return jax.jvp(field, (theta,), (v,))[1]

    def body(_, v):
        w = apply(v)
        return w / (jnp.linalg.norm(w) + jnp.finfo(theta.dtype).tiny)

    v0 = jax.random.normal(jax.random.PRNGKey(seed), theta.shape, dtype=theta.dtype)
    v = jax.lax.fori_loop(0, iterations, body, v0 / jnp.linalg.norm(v0))
    return jnp.linalg.norm(apply(v))


def top_eigenvalue(energy: Callable, theta, *, iterations: int = 200, seed: int = 0) -> float:
    """The largest eigenvalue λ_max of ∇²E(θ) as a float (:func:`lambda_max`; the stability edge
    of GD is h = 2/λ_max).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> E = lambda t: 0.5 * (3 * t[0] ** 2 + t[1] ** 2 - 5 * t[2] ** 2)
    >>> round(top_eigenvalue(E, jnp.array([1.0, 1.0, 1.0])), 6)
    3.0
    """
    return float(lambda_max(energy, theta, iterations=iterations, seed=seed))
