"""Theorem 3.1 and its higher-order analogues on a real network: how closely an optimizer follows
its truncated modified flows f̃_p = f₀ + h f₁ + … + hᵖ f_p, measured.

For each truncation order p and step size h (halving from ``h_max``):

* local error ‖Φ_h(θ₀) − φ_h^{(p)}(θ₀)‖ (expected O(h^{p+2})), where Φ_h is the optimizer's step
  in the problem's precision and φ_t^{(p)} the time-t flow of f̃_p, integrated by DOP853
  (rtol 1e-13) in float64 on the jitted field of :mod:`bea.deep.flow`;
* global error ‖Φ_h^N(θ₀) − φ_T^{(p)}(θ₀)‖ with N = T/h (expected O(h^{p+1})).

Adam and RMSProp iterate their real update on (θ, m, v) from moments on the slow manifold (to an
order above what is measured). Methods with memory (heavy ball, Nesterov: linear relations
Σ α_s θ_{n+s} = h Σ γ_j f(…)) start from the flow itself — θ_s = φ_{sh}^{(p)}(θ₀) for the first shifts — which places them on their
invariant manifold to the order measured; the local error is then that of their first step.

Slopes are fitted with :func:`bea.numeric.fit_slope` over the asymptotic range; errors below the
resolution (the reference solve's error plus rounding in the problem's dtype: float32 cannot
resolve the order-2 and order-3 errors) are dropped and reported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._checks import check_order
from ..errors import BeaError, InputError
from ..numeric.fit import fit_slope
from ..numeric.reference import integrate_flows
from ..verification import Verification
from .backend import deep_versions, require, scope
from .differentials import spectral_radius, top_eigenvalue
from .flow import NumericModifiedFlow, resolve_rule
from .problem import Problem

__all__ = ["verify"]

#: Most steps a global run may take.
MAX_STEPS = 100_000
#: Most evaluations of the batched modified field the reference integrations may take.
MAX_FIELD_CALLS = 20_000


def _orders(orders) -> tuple[int, ...]:
    if isinstance(orders, int):
        orders = (orders,)
    if isinstance(orders, str) or not isinstance(orders, Sequence) or not orders:
        raise InputError("give the truncation orders as a list of whole numbers, e.g. (0, 1, 2)")
    return tuple(sorted({check_order(p, maximum=6) for p in orders}))


def _relation_step(relation):
    """(k, step): θ at shift k from the k values before it, for an explicit linear relation."""
    shifts = relation.shifts
    lo, top = shifts[0], shifts[-1]
    alpha = {s - lo: float(a) for s, a in relation.alpha.items()}
    evals = [
        (float(g), {s - lo: float(m) for s, m in mu.items()}) for g, mu in relation.evaluations
    ]
    k = top - lo
    if any(m != 0 and s == k for _, mu in evals for s, m in mu.items()):
        raise InputError(f"{relation.name} is implicit: bea.deep verifies explicit relations only")

    def step(field, window, h):  # window: list of k arrays θ_0 … θ_{k−1}
        rhs = h * sum(g * field(sum(m * window[s] for s, m in mu.items() if m)) for g, mu in evals)
        rest = sum(a * window[s] for s, a in alpha.items() if s != k)
        return (rhs - rest) / alpha[k]

    return k, step


def verify(
    problem: Problem,
    orders: Sequence[int] = (0, 1, 2, 3),
    method="gd",
    *,
    h_max: float | None = None,
    n_steps: int = 6,
    horizon_steps: int = 4,
    start=None,
    warmup: int = 20,
    route: str | None = None,
) -> Verification:
    """Local and global errors of ``method`` on ``problem`` against its truncated modified flows.

    Parameters
    ----------
    problem : Problem
        float64 for a measurement that resolves orders ≥ 2 (a float32 problem is accepted, and its
        floors show what it cannot resolve).
    orders : sequence of int
        Truncation orders p (≤ 6).
    method : str or method object
        As in :func:`bea.deep.modified_flow` (one-step methods and explicit linear relations such as
        ``HeavyBall("0.9", time="effective")``). An :class:`~bea.deep.Epoch` is verified epoch by
        epoch: one epoch (c mini-batch steps of size h) against the time-c·h flow of the modified
        field, whose terms are in the time of single steps; with ``shuffle`` the step is the mean
        of the epoch's end points over the orders, the map whose modified flow is derived (not
        one random SGD path).
    h_max : float, optional
        Largest step size; default 0.5/ρ, ρ the size of the Jacobian of the method's leading
        field f₀ at the start (:func:`bea.deep.differentials.spectral_radius`): 0.5/λ_max for
        GD, the preconditioned curvature for Adam and RMSProp; 0.5/(cρ) for an epoch of c steps.
    n_steps : int
        Number of step sizes, halving from ``h_max``.
    horizon_steps : int
        The global horizon is T = horizon_steps · h_max (N = horizon_steps · 2ᵏ steps; for an
        :class:`~bea.deep.Epoch` of c mini-batch steps, N epochs and T = horizon_steps · c · h_max).
    start : array_like, optional
        θ₀; default: ``warmup`` GD steps of size 1/λ_max from ``problem.theta0`` (away from the
        random initialisation).
    warmup : int
        Number of warm-up steps.
    route : {"tree", "lie"}, optional
        Route of the modified field (default as in :func:`bea.deep.modified_flow`).

    Returns
    -------
    bea.Verification
        The same result type as :func:`bea.verify`; ``meta`` records the problem, dtype, λ_max
        and versions.

    Examples
    --------
    >>> prob = Problem.from_function(lambda t: (0.6 - t[0] * t[1]) ** 2 / 2, [2.8, 3.5])
    >>> v = verify(prob, orders=(0, 1), n_steps=5)
    >>> {p: round(s) for p, s in v.local_slopes.items()}
    {0: 2, 1: 3}
    """
    if not isinstance(problem, Problem):
        raise InputError("verify takes a bea.deep Problem (see bea.deep.problem)")
    orders = _orders(orders)
    n_steps = check_order(n_steps, maximum=20, what="n_steps")
    if n_steps < 3:
        raise InputError("n_steps must be at least 3 (a slope needs three step sizes)")
    horizon_steps = check_order(horizon_steps, maximum=1000, what="horizon_steps")
    if horizon_steps < 1:
        raise InputError("horizon_steps must be at least 1")
    warmup = check_order(warmup, maximum=100_000, what="warmup")
    rule = resolve_rule(method)
    c = rule.time_scale  # an epoch of c mini-batch steps of size h is one step in time c·h
    relation = _relation_of(rule)
    if rule.step is None and relation is None:
        raise InputError(f"{rule.name} has no numeric step in bea.deep: give it as a JAX step")
    jax = require()
    p64 = problem.with_dtype("float64")
    with scope():
        theta = p64.cast(problem.theta0 if start is None else start)
        lam = top_eigenvalue(p64.energy, theta)
        if lam <= 0 and (h_max is None or (start is None and warmup)):
            raise InputError(
                "the Hessian has no positive eigenvalue at the start, so there is no natural step "
                "size: give h_max (and start with warmup=0)"
            )
        if start is None and warmup:
            g = jax.jit(jax.grad(p64.energy))
            hw = 1.0 / max(lam, 1e-12)
            for _ in range(warmup):
                theta = theta - hw * g(theta)
            lam = top_eigenvalue(p64.energy, theta)
        theta0 = np.asarray(theta)
        if not np.any(p64.gradient(theta0)):
            raise InputError("the start is stationary (∇E = 0): there is nothing to measure")
        route = route or ("tree" if rule.bseries else "lie")
        rho = _rate(p64, rule, route, theta0)
        if h_max is None:  # GD: 0.5/λ_max; heavy ball in step time: ×(1−β); Adam: preconditioned
            h_max = 0.5 / max(c * rho, 1e-12)  # an epoch: the series is in c·h
        h_max = float(h_max)
        if not (np.isfinite(h_max) and h_max > 0):
            raise InputError(f"h_max must be positive and finite, got {h_max}")
        counts = horizon_steps * 2 ** np.arange(n_steps)
        if counts[-1] > MAX_STEPS:
            raise InputError(f"at most {MAX_STEPS:,} steps per global run; use fewer step sizes")
        horizon = horizon_steps * c * h_max
        hs = horizon / (c * counts)  # descending
        hs = hs[::-1].copy()  # ascending, as bea.verify
        counts = counts[::-1].copy()
        flow = NumericModifiedFlow(p64, rule, orders[-1], route)  # route checked by _rate
        field = _batched_field(flow, orders)
        runs_one, runs_many, starts_err = _run_method(
            problem, rule, relation, field, theta0, hs, counts, orders
        )
    P = len(orders)
    k = c if relation is None else relation[0]
    loc_ref = integrate_flows(_scaled(field, k), theta0[None], k * hs, P)
    glob_ref = integrate_flows(field, theta0[None], hs, P, horizon)
    eps = float(np.finfo(problem.dtype).eps)
    scale = 1.0 + float(np.max(np.abs(theta0)))
    diverged = ~np.isfinite(runs_many).all(axis=-1).any(axis=0)[:, None]
    loc, glob, lfit, gfit, lfloor, gfloor = {}, {}, {}, {}, {}, {}
    for s, p in enumerate(orders):
        le = np.linalg.norm(runs_one[s] - loc_ref.states[s, :, 0], axis=-1)[:, None]
        ge = np.linalg.norm(runs_many[s] - glob_ref.states[s, :, 0], axis=-1)[:, None]
        le[diverged], ge[diverged] = np.nan, np.nan
        loc[p], glob[p] = le, ge
        lfloor[p] = loc_ref.error[s, :, 0] + starts_err[s] + 8 * eps * scale
        gfloor[p] = glob_ref.error[s, :, 0] + starts_err[s] + 8 * eps * scale * np.sqrt(counts)
        lfit[p] = fit_slope(hs, le[:, 0], lfloor[p])
        gfit[p] = fit_slope(hs, ge[:, 0], gfloor[p])
    if diverged.all():
        raise BeaError("the optimizer diverged for every step size; give a smaller h_max")
    meta = {
        "problem": problem.name,
        "parameters": problem.m,
        "dtype": problem.dtype,
        "reference": "DOP853 in float64, rtol 1e-13",
        "lambda_max": lam,
        "rate": rho,
        "route": flow.route,
        "versions": deep_versions(),
    }
    return Verification(
        orders,
        hs,
        float(horizon),
        theta0[None],
        loc,
        glob,
        lfit,
        gfit,
        lfloor,
        gfloor,
        diverged,
        rule.name,
        meta,
    )


def _rate(problem: Problem, rule, route: str, theta0) -> float:
    """ρ(∂f₀(θ₀)): the size of the Jacobian of the method's leading field, which sets its step
    scale — λ_max for GD, λ_max/(1 − β) for heavy ball in step time, the preconditioned Hessian
    for Adam and RMSProp (whose steps are ≈ h·sign(g) and respond to curvature as λ/√(g² + ε))."""
    flow = NumericModifiedFlow(problem, rule, 0, route)
    flow._check_route(route)
    jax = require()
    return float(
        jax.jit(lambda t: spectral_radius(lambda u: flow.jax_terms(u, route)[0], t))(theta0)
    )


def _relation_of(rule):
    """(k, step) for methods that iterate a linear relation (heavy ball, Nesterov), else None."""
    relation = rule.relation
    if relation is None:
        return None
    for value in [*relation.alpha.values(), *(g for g, _ in relation.evaluations)]:
        if not isinstance(value, int | float) and getattr(value, "free_symbols", None):
            raise InputError(f"give {rule.name} numeric hyper-parameters")
    return _relation_step(relation)


def _batched_field(flow: NumericModifiedFlow, orders):
    """field(Y, H) for :func:`bea.numeric.integrate_flows`: Y (P, n_h, n_pts, m), H (n_h, 1)."""
    jax = require()
    jnp = jax.numpy
    J = orders[-1] + 1
    route = flow.route
    terms = jax.vmap(lambda t: jnp.stack(flow.jax_terms(t, route)))
    pj = np.arange(J)
    mask = (pj[None, :] <= np.asarray(orders)[:, None]).astype(float)  # (P, J)

    @jax.jit
    def apply(Y, W):
        P, nh, npt, m = Y.shape
        T = terms(Y.reshape(-1, m)).reshape(P, nh, npt, J, m)
        return jnp.einsum("sij,sipjm->sipm", W, T)

    calls = [0]

    def field(Y, H):
        calls[0] += 1
        if calls[0] > MAX_FIELD_CALLS:
            raise BeaError(
                "the reference integration of the modified flows needs more than "
                f"{MAX_FIELD_CALLS:,} field evaluations (a flow is stiff or blows up at these "
                "step sizes): give a smaller h_max"
            )
        W = (np.asarray(H)[:, 0][None, :, None] ** pj[None, None, :]) * mask[:, None, :]
        with scope():
            return np.asarray(apply(jnp.asarray(Y, dtype="float64"), jnp.asarray(W)))

    return field


def _scaled(field, c: int):
    """The field F_c(Y, c·h) = f̃(Y, h): its one-step flow at step c·h (integrate_flows integrates
    to time c·h) is the time-c·h flow of the field at parameter h."""
    if c == 1:
        return field
    return lambda Y, H: field(Y, H / c)


def _run_method(problem, rule, relation, field, theta0, hs, counts, orders):
    """The method's one step and N = T/h steps for every (order, step size), batched; returns
    (one, many, start_error) with shapes (P, n_h, m), (P, n_h, m), (P,)."""
    jax = require()
    jnp = jax.numpy
    P = len(orders)
    dtype = problem.dtype
    grad = jax.grad(problem.energy)

    def f(t):
        return -grad(t)

    H = jnp.asarray(hs, dtype=dtype)
    if rule.fast is not None:  # the real iteration on (θ, fast variables), started on the manifold
        begin, advance = rule.fast
        q = (
            max(orders) + 2
        )  # the start's error O(h^q) moves θ by O(h^(q+1)): below what is measured
        theta = jnp.asarray(theta0, dtype=dtype)
        state = jax.jit(jax.vmap(lambda h: begin(f, theta, h, q)))(H)
        adv = jax.vmap(lambda st, h: advance(f, st, h))
        one = np.asarray(jax.jit(adv)(state, H)[0])
        many = _iterate(lambda w, h: list(adv(tuple(w), h)), list(state), H, counts)[0]
        one = np.broadcast_to(one, (P, *one.shape))
        many = np.broadcast_to(np.asarray(many), (P, *many.shape))
        return one, many, np.zeros(P)
    if relation is None:
        n_inner = max(orders) + 60  # fixed-point sweeps for implicit steps (converge for hL < 1)
        c = rule.time_scale  # an epoch's step advances time c·h: c mini-batch steps of size h
        step = jax.vmap(lambda t, h: rule.step(f, t, c * h, n_inner))
        start = jnp.broadcast_to(jnp.asarray(theta0, dtype=dtype), (len(hs), theta0.size))
        one = np.asarray(jax.jit(step)(start, H))
        many = _iterate(lambda w, h: [step(w[0], h)], [start], H, counts)[0]
        one = np.broadcast_to(one, (P, *one.shape))
        many = np.broadcast_to(np.asarray(many), (P, *many.shape))
        return one, many, np.zeros(P)
    k, rstep = relation
    # starting values θ_s = φ_{s h}(θ₀), s = 0 … k−1, per order and step size
    window = [np.broadcast_to(theta0, (P, len(hs), theta0.size))]
    errs = np.zeros(P)
    for s in range(1, k):
        ref = integrate_flows(_scaled(field, s), theta0[None], s * hs, P)
        window.append(ref.states[:, :, 0])
        errs = np.maximum(errs, ref.error[:, :, 0].max(axis=1))
    step = jax.vmap(jax.vmap(lambda *w: rstep(f, list(w[:-1]), w[-1])), in_axes=(*[0] * k, None))
    w0 = [jnp.asarray(w, dtype=dtype) for w in window]
    one = np.asarray(jax.jit(step)(*w0, H))

    def advance(w, h):
        return [*w[1:], step(*w, h)]

    many = _iterate(advance, w0, H, counts, skip=k - 1)[-1]
    return one, np.asarray(many), errs


def _iterate(advance, window, H, counts, skip: int = 0):
    """N_i − skip steps of ``advance`` for each step size i (axis −2 of every state), masked so
    that every step size stops at its own count; one jitted loop."""
    jax = require()
    jnp = jax.numpy
    steps = np.asarray(counts) - skip
    n, total = jnp.asarray(steps), int(steps.max())

    def body(i, w):
        new = advance(w, H)
        keep = (i < n)[:, None]
        return [jnp.where(keep, a, b) for a, b in zip(new, w, strict=True)]

    return jax.jit(lambda w: jax.lax.fori_loop(0, total, body, w))(window)
