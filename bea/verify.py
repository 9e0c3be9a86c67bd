"""Measure how closely an optimizer follows its modified flows (Theorem 3.1 and its analogues).

For each truncation order p, step size h and starting point θ₀:

* local error  ‖Φ_h(θ₀) − φ_h^{(p)}(θ₀)‖ — one optimizer step against the time-h flow of
  f₀ + h f₁ + … + h^p f_p; expected O(h^{p+2});
* global error ‖Φ_h^N(θ₀) − φ_T^{(p)}(θ₀)‖ with N = T/h steps; expected O(h^{p+1}).

The slopes of log error against log h are fitted over the asymptotic range (see
:func:`bea.numeric.fit_slope`): diverged runs and errors that the reference integration or float64
cannot resolve are dropped, and the result says which.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .derive import modified_flow, prepare_loss
from .errors import BeaError, InputError
from .flow import ModifiedFlow
from .methods import METHODS
from .methods.base import StepMap
from .numeric.compile import compile_expressions, compile_flow, compile_loss, compile_step
from .numeric.fit import fit_slope
from .numeric.iterate import iterate, iterate_memory, newton_step
from .numeric.reference import integrate_flows
from .series import _check_order

__all__ = ["Verification", "verify", "verify_flow"]

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class Verification:
    """Errors of an optimizer against its truncated modified flows, and their fitted orders.

    Attributes
    ----------
    orders : tuple of int
        Truncation orders p.
    steps : numpy.ndarray, shape (n_h,)
        Step sizes (each divides the horizon: N = T/h is a whole number).
    horizon : float
        T for the global errors.
    points : numpy.ndarray, shape (n_points, d)
        Starting points.
    local_errors, global_errors : dict[int, numpy.ndarray of shape (n_h, n_points)]
        Per order p; NaN where the optimizer diverged (see ``diverged``).
    local_fits, global_fits : dict[int, SlopeFit]
        Fitted orders of the worst error over the points.
    local_floor, global_floor : dict[int, numpy.ndarray of shape (n_h,)]
        The smallest error the measurement resolves at each step size.
    diverged : numpy.ndarray of bool, shape (n_h, n_points)
        Optimizer runs that diverged within the horizon.

    Examples
    --------
    >>> import bea
    >>> v = bea.verify("cos(t)", ["t"], [1.0], orders=(0, 1), horizon=0.5)
    >>> {p: round(s) for p, s in v.local_slopes.items()}
    {0: 2, 1: 3}
    """

    orders: tuple[int, ...]
    steps: np.ndarray
    horizon: float
    points: np.ndarray
    local_errors: dict
    global_errors: dict
    local_fits: dict
    global_fits: dict
    local_floor: dict
    global_floor: dict
    diverged: np.ndarray
    method: str = "gd"
    meta: dict = field(default_factory=dict)

    @property
    def local_slopes(self) -> dict[int, float]:
        """Fitted local orders (expected p + 2)."""
        return {p: f.slope for p, f in self.local_fits.items()}

    @property
    def global_slopes(self) -> dict[int, float]:
        """Fitted global orders (expected p + 1)."""
        return {p: f.slope for p, f in self.global_fits.items()}

    def worst(self, kind: str, p: int) -> np.ndarray:
        """Worst error over the starting points at each step size (NaN where all diverged)."""
        return _worst((self.local_errors if kind == "local" else self.global_errors)[p])

    def to_dict(self) -> dict:
        """Plain-JSON view (errors are the worst over the starting points)."""

        def clean(a):
            return [None if not np.isfinite(v) else float(v) for v in np.asarray(a)]

        return {
            "method": self.method,
            "orders": list(self.orders),
            "steps": clean(self.steps),
            "horizon": self.horizon,
            "n_points": int(self.points.shape[0]),
            "local_slopes": {str(p): f.to_dict()["slope"] for p, f in self.local_fits.items()},
            "global_slopes": {str(p): f.to_dict()["slope"] for p, f in self.global_fits.items()},
            "expected_local_slopes": {str(p): p + 2 for p in self.orders},
            "expected_global_slopes": {str(p): p + 1 for p in self.orders},
            "local_errors": {str(p): clean(self.worst("local", p)) for p in self.orders},
            "global_errors": {str(p): clean(self.worst("global", p)) for p in self.orders},
            "local_fits": {str(p): f.to_dict() for p, f in self.local_fits.items()},
            "global_fits": {str(p): f.to_dict() for p, f in self.global_fits.items()},
            "diverged_runs": int(self.diverged.sum()),
            **self.meta,
        }

    def to_json(self) -> str:
        """The data of :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        rows = [
            f"verification of {self.method}: {self.points.shape[0]} starting point(s), "
            f"{self.steps.size} step sizes in [{self.steps.min():.3g}, {self.steps.max():.3g}], "
            f"horizon T = {self.horizon:g}",
            f"{'order p':>8} | {'local slope':>11} (exp.) | {'global slope':>12} (exp.) | "
            f"{'fit r2 (loc/glob)':>17} | dropped steps",
        ]
        for p in self.orders:
            lf, gf = self.local_fits[p], self.global_fits[p]
            dropped = len(lf.dropped) + len(gf.dropped)
            rows.append(
                f"{p:>8} | {lf.slope:>11.3f} ({p + 2:>3}) | {gf.slope:>12.3f} ({p + 1:>3}) | "
                f"{lf.r2:>8.5f}/{gf.r2:<8.5f} | {dropped}"
            )
        if self.diverged.any():
            rows.append(
                f"warning: {int(self.diverged.sum())} optimizer run(s) diverged and were left out"
            )
        rows.append("")
        rows.append(
            f"{'h':>10} "
            + " ".join(f"{'local p=' + str(p):>12}" for p in self.orders)
            + " "
            + " ".join(f"{'global p=' + str(p):>12}" for p in self.orders)
        )
        for i, h in enumerate(self.steps):
            loc = " ".join(f"{self.worst('local', p)[i]:>12.3e}" for p in self.orders)
            glo = " ".join(f"{self.worst('global', p)[i]:>12.3e}" for p in self.orders)
            rows.append(f"{h:>10.4g} {loc} {glo}")
        return "\n".join(rows)

    def plot(self, ax=None):
        """Error against step size, log–log, with the fitted slopes (see :mod:`bea.plots`).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots.errors import plot_verification

        return plot_verification(self, ax=ax)


def _default_steps(hess, points: np.ndarray, horizon: float, n: int) -> np.ndarray:
    H = hess(points)
    L = float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (H + np.swapaxes(H, -1, -2))))))
    h_max = 0.1 / max(L, 1e-3)
    return horizon / _step_counts(horizon / h_max, 16 * horizon / h_max, n)


def _step_counts(n_min: float, n_max: float, n: int) -> np.ndarray:
    counts = np.unique(np.round(np.geomspace(max(n_min, 1), max(n_max, 2), n)).astype(int))
    return counts[::-1]  # step sizes ascending means counts descending


def _snap(steps, horizon: float) -> np.ndarray:
    steps = np.asarray(steps, dtype=float).ravel()
    if steps.size < 3 or np.any(~np.isfinite(steps)) or np.any(steps <= 0):
        raise InputError("give at least 3 finite step sizes h > 0")
    counts = np.maximum(np.round(horizon / steps), 1).astype(int)
    return horizon / np.unique(counts)[::-1]


def verify_flow(
    flow: ModifiedFlow,
    step: StepMap,
    point,
    orders: Sequence[int] = (0, 1, 2),
    steps=None,
    horizon: float = 1.0,
    *,
    values: Mapping | None = None,
    n_steps: int = 12,
) -> Verification:
    """Verify a derived modified flow against its one-step map (see :func:`verify`).

    Parameters
    ----------
    flow : ModifiedFlow
        The modified flow (its order must cover ``orders``).
    step : StepMap
        The one-step map it was derived from (same state and step-size symbol).
    point, orders, steps, horizon, values, n_steps
        As in :func:`verify`.

    Returns
    -------
    Verification

    Examples
    --------
    >>> import sympy as sp, bea
    >>> from bea.methods import gradient_descent
    >>> t, h = sp.symbols("t h")
    >>> step = gradient_descent(sp.cos(t), (t,), h)
    >>> flow = bea.modified_equation(step.step, step.state, h, 2)
    >>> v = verify_flow(flow, step, [1.0], orders=(0, 1), horizon=0.5)
    >>> [round(s) for s in v.local_slopes.values()]
    [2, 3]
    """
    orders = _check_orders(orders)
    if orders[-1] > flow.order:
        raise InputError(f"the flow was derived to order {flow.order}, not {orders[-1]}")
    if flow.state != step.state:
        raise InputError("the flow and the step map act on different states")
    if not (np.isfinite(horizon) and horizon > 0):
        raise InputError(f"the horizon must be > 0, got {horizon}")
    d = len(flow.state)
    points = np.atleast_2d(np.asarray(point, dtype=float))
    if points.shape[-1] != d or points.ndim != 2:
        raise InputError(f"starting points need {d} coordinates each, got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise InputError("starting points must be finite")
    memory = step.prev is not None
    if memory:
        raw = compile_expressions(list(step.step), step.state + step.prev, step.h, values)

        def phi2(Y, Yp, H):
            return raw(np.concatenate([Y, Yp], axis=-1), H)
    elif step.fast is not None:
        phi = compile_expressions(list(step.step), step.state + step.fast, step.h, values)
        init = compile_expressions(list(step.fast_init), step.state, step.h, values)
    elif step.implicit is not None:
        phi = _implicit_step(step, values)
    else:
        phi = compile_step(step, values)
    field = compile_flow(flow, values, orders)
    if steps is None:
        if step.loss is None:
            raise InputError("give the step sizes (steps=...) for a map without a loss")
        _, _, hess = compile_loss(step.loss, step.state, values)
        hs = _default_steps(hess, points, horizon, n_steps)
    else:
        hs = _snap(steps, horizon)
    counts = np.round(horizon / hs).astype(int)

    shape = (len(orders), hs.size, *points.shape)
    if memory:  # start on the invariant manifold of each order: θ₋₁ = φ^{(p)}_{−h}(θ₀)
        start = np.broadcast_to(points, shape)
        back = integrate_flows(lambda Y, H: -field(Y, H), points, hs, len(orders)).states
        one_states, _ = iterate_memory(phi2, start, back, hs, np.ones_like(counts))
        many_states, bad = iterate_memory(phi2, start, back, hs, counts)
        diverged = bad.any(axis=0)
    else:
        start = points
        if step.fast is not None:  # (θ, w) with w on the slow manifold, per step size
            P = np.broadcast_to(points, (hs.size, *points.shape))
            start = np.concatenate([P, init(P, hs[:, None])], axis=-1)
        one = iterate(phi, start, hs, 1)
        many = iterate(phi, start, hs, counts)
        one_states = np.broadcast_to(one.states[..., :d], shape)
        many_states = np.broadcast_to(many.states[..., :d], shape)
        diverged = many.diverged
    if diverged.all():
        raise BeaError(
            "the optimizer diverged for every step size and starting point; use smaller step sizes"
        )
    loc_ref = integrate_flows(field, points, hs, len(orders))
    glob_ref = integrate_flows(field, points, hs, len(orders), horizon)
    scale = 1.0 + np.max(np.abs(points))
    local_errors, global_errors, lfit, gfit, lfloor, gfloor = {}, {}, {}, {}, {}, {}
    for slot, p in enumerate(orders):
        le = np.linalg.norm(one_states[slot] - loc_ref.states[slot], axis=-1)
        ge = np.linalg.norm(many_states[slot] - glob_ref.states[slot], axis=-1)
        local_errors[p], global_errors[p] = le, ge
        lfloor[p] = np.max(loc_ref.error[slot], axis=1) + 8 * _EPS * scale
        gfloor[p] = np.max(glob_ref.error[slot], axis=1) + 8 * _EPS * scale * np.sqrt(counts)
        lfit[p] = fit_slope(hs, _worst(le), lfloor[p])
        gfit[p] = fit_slope(hs, _worst(ge), gfloor[p])
    return Verification(
        orders,
        hs,
        float(horizon),
        points,
        local_errors,
        global_errors,
        lfit,
        gfit,
        lfloor,
        gfloor,
        diverged,
        step.name,
    )


def _implicit_step(step: StepMap, values):
    """Newton's method on the residual G(θ, θ') of an implicit step, started at θ' = θ."""
    state, new = step.state, step.implicit
    G = compile_expressions(list(step.step), state + new, step.h, values)
    jac = [sp.diff(g, v) for g in step.step for v in new]
    J = compile_expressions(jac, state + new, step.h, values)
    d = len(state)
    # start at θ' = θ: the first Newton step is the linearly implicit step
    return newton_step(G, lambda Z, h: J(Z, h).reshape(*Z.shape[:-1], d, d), lambda Y, h: Y)


def _check_orders(orders: Sequence[int]) -> tuple[int, ...]:
    """Truncation orders as a sorted tuple of distinct whole numbers >= 0 (at least one)."""
    orders = tuple(orders)
    if not orders:
        raise InputError("give at least one truncation order")
    return tuple(sorted({_check_order(p) for p in orders}))


def _worst(errs: np.ndarray) -> np.ndarray:
    """Worst error over the points (axis 1) at each step size; NaN where every run diverged."""
    with np.errstate(all="ignore"):
        w = np.where(np.isfinite(errs), errs, -np.inf).max(axis=1)
    return np.where(np.isfinite(w), w, np.nan)


def verify(
    loss: sp.Expr | str,
    params: Sequence[sp.Symbol | str],
    point,
    orders: Sequence[int] = (0, 1, 2),
    steps=None,
    horizon: float = 1.0,
    *,
    values: Mapping | None = None,
    method: str = "gd",
    n_steps: int = 12,
) -> Verification:
    """Measure the local and global errors of an optimizer against its truncated modified flows.

    Parameters
    ----------
    loss : sympy expression or str
        The loss E.
    params : sequence of sympy Symbol or str
        The parameters.
    point : array_like, shape (d,) or (n_points, d)
        Starting point(s).
    orders : sequence of int, default (0, 1, 2)
        Truncation orders p of the modified flow to test (p = 0 is the gradient flow).
    steps : array_like, optional
        Step sizes; each is snapped so that N = T/h is a whole number. Default: 12 sizes over a
        factor 16, the largest 0.1/L with L the largest Hessian eigenvalue at the points.
    horizon : float, default 1.0
        T for the global errors.
    values : mapping, optional
        Numeric values of constants in the loss (e.g. ``{"x": 1, "y": 0.6}``).
    method : str, default "gd"
        The optimizer.
    n_steps : int, default 12
        Number of default step sizes.

    Returns
    -------
    Verification
        With ``local_slopes`` ≈ p + 2 and ``global_slopes`` ≈ p + 1.

    Examples
    --------
    The paper's two-parameter model from (2.8, 3.5):

    >>> import bea
    >>> v = bea.verify("(y - a*b*x)**2/2", ["a", "b"], [2.8, 3.5], orders=(0, 1),
    ...                values={"x": 1, "y": 0.6})
    >>> {p: round(s, 1) for p, s in v.local_slopes.items()}
    {0: 2.0, 1: 3.0}
    >>> {p: round(s, 1) for p, s in v.global_slopes.items()}
    {0: 1.0, 1: 2.0}
    """
    loss, params, h = prepare_loss(loss, params)
    orders = _check_orders(orders)
    from .optim import Optimizer, resolve_method

    method = resolve_method(method)
    if isinstance(method, Optimizer):
        flow, step = method.verification(loss, params, h, orders[-1])
    else:
        flow = modified_flow(loss, params, order=orders[-1], method=method, h=h)
        step = METHODS[method](loss, params, h)
    return verify_flow(flow, step, point, orders, steps, horizon, values=values, n_steps=n_steps)
