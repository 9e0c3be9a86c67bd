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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ._checks import check_order, finite_floats
from .errors import BeaError, InputError
from .flow import ModifiedFlow
from .io import dumps, jsonable
from .numeric.compile import compile_flow, compile_loss
from .numeric.fit import fit_slope
from .numeric.reference import integrate_flows
from .numeric.stepper import compile_stepper
from .optim import Optimizer, resolve_method
from .parsing import numeric_values, prepare_loss
from .precise import LocalVerification, verify_local
from .step import Step

__all__ = ["Verification", "verify", "verify_flow"]

_EPS = np.finfo(float).eps
#: Most steps a global run may take.
MAX_STEPS = 1_000_000


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
    next_terms : dict[int, int]
        For each p, the first j > p whose term f_j is not zero among the derived terms (p + 1 if
        f_{p+1} is beyond them): the expected local slope is j + 1 and the global slope j —
        p + 2 and p + 1 unless terms vanish, as f₁ does for second-order methods.

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
    next_terms: dict = field(default_factory=dict)

    @property
    def local_slopes(self) -> dict[int, float]:
        """Fitted local orders (expected p + 2)."""
        return {p: f.slope for p, f in self.local_fits.items()}

    @property
    def global_slopes(self) -> dict[int, float]:
        """Fitted global orders (expected p + 1)."""
        return {p: f.slope for p, f in self.global_fits.items()}

    @property
    def expected_local_slopes(self) -> dict[int, int]:
        """j + 1 for the first non-zero term f_j after f_p (p + 2 when f_{p+1} ≠ 0).

        Examples
        --------
        >>> import bea
        >>> v = bea.verify("t**4/4 + t**2/2", ["t"], [0.8], orders=(0, 2), method="ab2")
        >>> v.expected_local_slopes      # AB2 is second order: f₁ = 0
        {0: 3, 2: 4}
        """
        return {p: self.next_terms.get(p, p + 1) + 1 for p in self.orders}

    @property
    def expected_global_slopes(self) -> dict[int, int]:
        """One less than :attr:`expected_local_slopes`."""
        return {p: s - 1 for p, s in self.expected_local_slopes.items()}

    def worst(self, kind: str, p: int) -> np.ndarray:
        """Worst error over the starting points at each step size (NaN where all diverged)."""
        return _worst((self.local_errors if kind == "local" else self.global_errors)[p])

    def to_dict(self) -> dict:
        """Plain-JSON view (errors are the worst over the starting points)."""
        return jsonable(
            {
                "method": self.method,
                "orders": list(self.orders),
                "steps": self.steps,
                "horizon": self.horizon,
                "n_points": int(self.points.shape[0]),
                "local_slopes": {str(p): f.to_dict()["slope"] for p, f in self.local_fits.items()},
                "global_slopes": {
                    str(p): f.to_dict()["slope"] for p, f in self.global_fits.items()
                },
                "expected_local_slopes": {str(p): s for p, s in self.expected_local_slopes.items()},
                "expected_global_slopes": {
                    str(p): s for p, s in self.expected_global_slopes.items()
                },
                "local_errors": {str(p): self.worst("local", p) for p in self.orders},
                "global_errors": {str(p): self.worst("global", p) for p in self.orders},
                "local_fits": {str(p): f.to_dict() for p, f in self.local_fits.items()},
                "global_fits": {str(p): f.to_dict() for p, f in self.global_fits.items()},
                "diverged_runs": int(self.diverged.sum()),
                **self.meta,
            }
        )

    def to_json(self) -> str:
        """The data of :meth:`to_dict` as JSON (bea's one style, see :func:`bea.io.dumps`)."""
        return dumps(self.to_dict())

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
            el, eg = self.expected_local_slopes[p], self.expected_global_slopes[p]
            rows.append(
                f"{p:>8} | {lf.slope:>11.3f} ({el:>3}) | {gf.slope:>12.3f} ({eg:>3}) | "
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
        from .plots.convergence import plot_verification

        return plot_verification(self, ax=ax)


def _default_steps(hess, points: np.ndarray, horizon: float, n: int) -> np.ndarray:
    H = hess(points)
    L = float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (H + np.swapaxes(H, -1, -2))))))
    h_max = 0.1 / max(L, 1e-3)
    return horizon / _step_counts(horizon / h_max, 16 * horizon / h_max, n)


def _step_counts(n_min: float, n_max: float, n: int) -> np.ndarray:
    counts = np.unique(np.round(np.geomspace(max(n_min, 1), max(n_max, 2), n)).astype(int))
    return counts[::-1]  # step sizes ascending means counts descending


def _positive(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {value!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"{what} must be finite and > 0, got {value}")
    return value


def _snap(steps, horizon: float) -> np.ndarray:
    """Step sizes that divide the horizon: h = T/N with N = round(T/h); refused when that merges
    or drops some of the given sizes."""
    try:
        steps = np.asarray(steps, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError("step sizes must be numbers") from None
    if steps.size < 3 or np.any(~np.isfinite(steps)) or np.any(steps <= 0):
        raise InputError("give at least 3 finite step sizes h > 0")
    if np.unique(steps).size != steps.size:
        raise InputError("a step size is given twice")
    if np.any(steps > horizon):
        raise InputError(
            f"step sizes must not exceed the horizon T = {horizon:g} (each global run takes "
            "N = T/h steps)"
        )
    counts = np.round(horizon / steps).astype(int)
    if np.unique(counts).size != counts.size:
        raise InputError(
            f"the step sizes {', '.join(f'{h:g}' for h in np.sort(steps))} do not give different "
            f"whole numbers of steps N = T/h over the horizon T = {horizon:g}; use a longer "
            "horizon or step sizes further apart"
        )
    return horizon / np.sort(counts)[::-1]


def verify_flow(
    flow: ModifiedFlow,
    step: Step,
    point,
    orders: Sequence[int] = (0, 1, 2),
    steps=None,
    horizon: float = 1.0,
    *,
    values: Mapping | None = None,
    n_steps: int = 12,
) -> Verification:
    """Verify a derived modified flow against the step it was derived from (see :func:`verify`).

    Parameters
    ----------
    flow : ModifiedFlow
        The modified flow (its order must cover ``orders``).
    step : Step
        The step it was derived from, of any kind of :mod:`bea.step` (same state and step-size
        symbol); :mod:`bea.numeric.stepper` iterates it.
    point, orders, steps, horizon, values, n_steps
        As in :func:`verify`.

    Returns
    -------
    Verification

    Examples
    --------
    >>> import sympy as sp, bea
    >>> from bea.optim import GD
    >>> t, h = sp.symbols("t h")
    >>> step = GD().step_map(sp.cos(t), (t,), h)
    >>> flow = bea.modified_equation(step, order=2)
    >>> v = verify_flow(flow, step, [1.0], orders=(0, 1), horizon=0.5)
    >>> [round(s) for s in v.local_slopes.values()]
    [2, 3]
    """
    orders = _check_orders(orders)
    if not isinstance(flow, ModifiedFlow) or not isinstance(step, Step):
        raise InputError("verify_flow takes a ModifiedFlow and the step it was derived from")
    if orders[-1] > flow.order:
        raise InputError(f"the flow was derived to order {flow.order}, not {orders[-1]}")
    if flow.state != step.state or flow.h != step.h:
        raise InputError("the flow and the step act on different states or step sizes")
    horizon = _positive(horizon, "the horizon")
    d = len(flow.state)
    points = np.atleast_2d(finite_floats(point, "starting points"))
    if points.shape[-1] != d or points.ndim != 2:
        raise InputError(f"starting points need {d} coordinates each, got shape {points.shape}")
    values = numeric_values(values, (*flow.state, flow.h))
    run = compile_stepper(step, flow, values)
    field = compile_flow(flow, values, orders)
    if steps is None:
        if step.loss is None:
            raise InputError("give the step sizes (steps=...) for a map without a loss")
        _, grad, hess = compile_loss(step.loss, step.state, values)
        if np.all(np.abs(grad(points)) == 0):
            raise InputError(
                "every starting point is stationary (the gradient vanishes there): there is "
                "nothing to measure; start away from the critical points"
            )
        n_steps = check_order(n_steps, maximum=100, what="n_steps")
        if n_steps < 3:
            raise InputError("n_steps must be at least 3 (a slope needs three step sizes)")
        hs = _default_steps(hess, points, horizon, n_steps)
    else:
        hs = _snap(steps, horizon)
    counts = np.round(horizon / hs).astype(int)
    if counts.max() > MAX_STEPS:
        raise InputError(
            f"the horizon {horizon:g} takes {counts.max():,} steps at h = {hs.min():.3g}; at most "
            f"{MAX_STEPS:,}: use a shorter horizon or larger step sizes"
        )
    runs = run(points, hs, counts, field, len(orders))
    diverged = runs.diverged
    if diverged.all():
        raise BeaError(
            "the optimizer diverged for every step size and starting point; use smaller step sizes"
        )
    loc_ref = integrate_flows(field, points, hs, len(orders))
    glob_ref = integrate_flows(field, points, hs, len(orders), horizon)
    scale = 1.0 + np.max(np.abs(points))
    local_errors, global_errors, lfit, gfit, lfloor, gfloor = {}, {}, {}, {}, {}, {}
    for slot, p in enumerate(orders):
        le = np.linalg.norm(runs.one[slot] - loc_ref.states[slot], axis=-1)
        ge = np.linalg.norm(runs.many[slot] - glob_ref.states[slot], axis=-1)
        le[diverged], ge[diverged] = np.nan, np.nan
        local_errors[p], global_errors[p] = le, ge
        lfloor[p] = np.max(loc_ref.error[slot], axis=1) + 8 * _EPS * scale
        gfloor[p] = np.max(glob_ref.error[slot], axis=1) + 8 * _EPS * scale * np.sqrt(counts)
        lfit[p] = fit_slope(hs, _worst(le), lfloor[p])
        gfit[p] = fit_slope(hs, _worst(ge), gfloor[p])
    next_terms = {}
    for p in orders:
        j = p + 1
        while j <= flow.order and all(e == 0 for e in flow.terms[j]):
            j += 1
        next_terms[p] = j
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
        next_terms=next_terms,
    )


def _check_orders(orders: Sequence[int]) -> tuple[int, ...]:
    """Truncation orders as a sorted tuple of distinct whole numbers >= 0 (at least one)."""
    if isinstance(orders, int | str):
        orders = (orders,)
    orders = tuple(orders)
    if not orders:
        raise InputError("give at least one truncation order")
    return tuple(sorted({check_order(p) for p in orders}))


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
    method: str | Optimizer = "gd",
    n_steps: int = 12,
    precision: int | None = None,
) -> Verification | LocalVerification:
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
    precision : int, optional
        Decimal digits: measure the local errors in arbitrary precision instead of float64
        (:func:`bea.verify_local`: an explicit step map, local errors only, default steps
        1/32 … 1/256), for the orders float64 rounding hides.

    Returns
    -------
    Verification
        With ``local_slopes`` ≈ p + 2 and ``global_slopes`` ≈ p + 1 — or, with ``precision``,
        a :class:`bea.LocalVerification`.

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

    Orders that float64 cannot resolve, in 40 digits:

    >>> hi = bea.verify("(y - a*b*x)**2/2", ["a", "b"], [1.5, 0.8], orders=(5,),
    ...                 values={"x": 1, "y": 0.6}, precision=40)
    >>> round(hi.local_slopes[5])
    7
    """
    loss, params, h = prepare_loss(loss, params)
    orders = _check_orders(orders)
    method = resolve_method(method, params, h)
    flow, step = method.flow_and_step(loss, params, h, orders[-1])
    if precision is not None:  # verify_local checks the points and steps itself
        return verify_local(flow, step, point, orders, steps, digits=precision, values=values)
    return verify_flow(flow, step, point, orders, steps, horizon, values=values, n_steps=n_steps)
