"""The two-parameter model study (Barrett & Dherin 2021, Section 4): the data behind the figures.

Every experiment is a pure function of the model and the settings that returns a plain result
object (NumPy arrays, ``to_dict``); nothing here draws or writes files. :func:`run` computes all of
them once into :class:`StudyResults`, which the figures and the report both read. Gradient descent runs
batched over step sizes and starts (:func:`bea.numeric.iterate`); flows are integrated as one
stacked system (:func:`bea.numeric.integrate_flows`); the fields come from bea's own derivations,
so the figures exercise the engine rather than typed-in formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import sympy as sp

from ..derive import modified_flow
from ..errors import InputError
from ..io import jsonable
from ..models import TwoParameter
from ..numeric import compile_expressions, compile_flow, integrate_flows, iterate
from ..regularization import igr
from ..verification import Verification, verify

__all__ = [
    "RIG_FRACTIONS",
    "StudyResults",
    "Curl",
    "Regularized",
    "Paths",
    "RigPaths",
    "Settings",
    "Sweep",
    "curl_order2",
    "explicit_regularization",
    "flow_end_points",
    "gd_end_points",
    "learning_rate_sweep",
    "nice_step",
    "rig_along_path",
    "check_size",
    "run",
    "trajectories",
]

#: GD counts as converged when abs(y − abx) falls below this at the horizon.
CONVERGED = 1e-9
#: A run stops early once abs(y − abx) is below this (what is left to move is at rounding level).
SETTLED = 1e-13


@dataclass(frozen=True)
class Settings:
    """Sizes of the study's experiments.

    Parameters
    ----------
    quick : bool
        A small, fast version (a few seconds) for tests and smoke runs; same code paths.

    Examples
    --------
    >>> Settings(quick=True).n_sweep
    8
    """

    quick: bool = False

    @property
    def n_sweep(self) -> int:
        """Learning rates per sweep."""
        return 8 if self.quick else 36

    @property
    def n_mu(self) -> int:
        """Regularization strengths in the explicit-regularization sweep."""
        return 8 if self.quick else 30

    @property
    def curl_grid(self) -> int:
        """Grid points per axis of the curl map."""
        return 41 if self.quick else 201

    @property
    def sweep_range(self) -> tuple[float, float]:
        """Learning rates of the sweeps, as fractions of the stability limit at the start."""
        return (0.25, 2.0) if self.quick else (0.05, 2.0)

    @property
    def path_fractions(self) -> tuple[float, float]:
        """The (small, moderate) learning rates of the trajectories figure, as fractions of the
        stability limit at the start (both stable there)."""
        return (0.3, 0.6) if self.quick else (0.15, 0.6)

    def horizon(self, far: bool) -> float:
        """Time T that every run is given to converge (from the near or the far start).

        Measured: GD below the stability limit converges (abs(y − abx) < 1e-9) by t ≈ 6.2 from the
        near start and by t ≈ 3.7 from the far one.
        """
        if far:
            return 4.0 if self.quick else 5.0
        return 20.0 if self.quick else 30.0


class _Data:
    def to_dict(self) -> dict:
        """Plain lists and numbers (None for missing values), ready for JSON."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if f.repr}


def _gd_step(model: TwoParameter):
    return lambda Y, H: model.gd_step(Y, H)


def _n_steps(steps: np.ndarray, horizon: float) -> np.ndarray:
    return np.ceil(horizon / steps - 1e-9).astype(int)


def gd_end_points(model: TwoParameter, start, steps, horizon: float):
    """Run GD from ``start`` for time ``horizon`` at every step size; (end points, status).

    A run stops early once it has settled (abs(y − abx) < 1e-13).

    ``status`` is ``"converged"``, ``"diverged"`` or ``"not converged"`` (still moving: for
    example a period-2 orbit beyond the stability limit); end points are NaN unless converged.

    Examples
    --------
    >>> ends, status = gd_end_points(TwoParameter(), (2.8, 3.5), [0.05, 0.5], 20.0)
    >>> status.tolist()
    ['converged', 'diverged']
    """
    steps = np.asarray(steps, dtype=float)
    res = iterate(
        _gd_step(model),
        np.asarray(start, float),
        steps,
        _n_steps(steps, horizon),
        stop=lambda Y: np.abs(model.residual(Y)) < SETTLED,
    )
    ends = res.states[:, 0]
    with np.errstate(invalid="ignore"):
        ok = np.abs(model.residual(ends)) < CONVERGED
    status = np.where(res.diverged[:, 0], "diverged", np.where(ok, "converged", "not converged"))
    return np.where(ok[:, None], ends, np.nan), status


def _modified_field(model: TwoParameter, orders):
    flow = modified_flow(model.loss, model.params, order=max(orders))
    return compile_flow(flow, orders=orders)


def flow_end_points(model: TwoParameter, start, steps, orders, horizon: float) -> np.ndarray:
    """End points of the modified flows of ``orders`` for each step size, shape (P, n_h, 2).

    Examples
    --------
    >>> m = TwoParameter()
    >>> end = flow_end_points(m, m.start, [0.01], (0,), 60.0)[0, 0]
    >>> bool(np.allclose(end, m.gradient_flow_limit(m.start), atol=1e-9))
    True
    """
    orders = tuple(orders)
    ref = integrate_flows(
        _modified_field(model, orders),
        np.asarray(start, float),
        np.asarray(steps, float),
        len(orders),
        horizon,
        rtol=1e-11,
        atol=1e-13,
    )
    return ref.states[:, :, 0]


@dataclass(frozen=True)
class Sweep(_Data):
    """Where GD ends, against the learning rate, next to its predictions (figure 3).

    Attributes
    ----------
    start : tuple of float
    steps : numpy.ndarray, shape (n_h,)
        Learning rates h.
    gd_end : numpy.ndarray, shape (n_h, 2)
        GD's limit at each h (NaN unless converged).
    status : numpy.ndarray of str, shape (n_h,)
    stability_limit : float
        2/λ_max(∇²E(start)): GD is linearly stable at the start below it.
    gradient_flow_end : numpy.ndarray, shape (2,)
        The closed-form limit of gradient flow (h → 0).
    orders : tuple of int
        Truncation orders of the modified-flow predictions.
    flow_end : numpy.ndarray, shape (P, n_h, 2)
        Where the order-p modified flow ends (NaN above the stability limit, where the series is
        not meant to hold).
    """

    start: tuple
    steps: np.ndarray
    gd_end: np.ndarray
    status: np.ndarray
    stability_limit: float
    gradient_flow_end: np.ndarray
    orders: tuple
    flow_end: np.ndarray


def learning_rate_sweep(
    model: TwoParameter,
    start,
    settings: Settings = Settings(),
    *,
    far: bool = False,
    orders=(1, 2, 3),
) -> Sweep:
    """GD's end point for learning rates across ``settings.sweep_range`` times the stability limit
    at ``start`` (from 5% to 200%), with gradient flow's closed form and the order-p modified
    flows' predictions.

    Examples
    --------
    >>> m = TwoParameter()
    >>> s = learning_rate_sweep(m, m.start, Settings(quick=True))
    >>> s.steps.shape, s.flow_end.shape, round(s.stability_limit, 4)
    ((8,), (3, 8, 2), 0.0686)
    >>> bool(m.sharpness(s.gd_end[0]) < m.sharpness(s.gradient_flow_end))
    True
    """
    start = tuple(float(v) for v in start)
    limit = float(model.stability_limit(np.array(start)))
    steps = limit * np.linspace(*settings.sweep_range, settings.n_sweep)
    horizon = settings.horizon(far)
    gd_end, status = gd_end_points(model, start, steps, horizon)
    stable = steps <= limit
    flow_end = np.full((len(orders), steps.size, 2), np.nan)
    flow_end[:, stable] = flow_end_points(model, start, steps[stable], orders, horizon)
    return Sweep(
        start,
        steps,
        gd_end,
        status,
        limit,
        model.gradient_flow_limit(np.array(start)),
        tuple(orders),
        flow_end,
    )


@dataclass(frozen=True)
class Regularized(_Data):
    """Gradient flow on E + μ R_IG (explicit gradient regularization, figure 5).

    Attributes
    ----------
    start : tuple of float
    mus : numpy.ndarray, shape (n_mu,)
        Regularization rates μ.
    end : numpy.ndarray, shape (n_mu, 2)
        Where each flow ends.
    implicit_max : float
        The largest implicit rate λ = h/2 of a GD run that is stable at the start.
    """

    start: tuple
    mus: np.ndarray
    end: np.ndarray
    implicit_max: float


def explicit_regularization(
    model: TwoParameter, start, settings: Settings = Settings(), *, far: bool = False
) -> Regularized:
    """Gradient flow on E + μ R_IG for μ from 1/20 of the largest stable implicit rate to
    10⁴ times it (log-spaced), integrated with a stiff solver.

    Examples
    --------
    >>> m = TwoParameter()
    >>> r = explicit_regularization(m, m.start, Settings(quick=True))
    >>> r.end.shape, bool(np.all(np.abs(m.residual(r.end)) < 1e-8))
    ((8, 2), True)
    """
    start = tuple(float(v) for v in start)
    lam_max = float(model.stability_limit(np.array(start))) / 2  # λ = h m / 4 with m = 2
    mus = lam_max * np.geomspace(0.05, 1e4, settings.n_mu)
    mu = sp.Symbol("mu", positive=True)
    reg = igr(model.loss, model.params)
    total = reg.loss + mu * reg.R
    grad = compile_expressions([-sp.diff(total, p) for p in model.params], model.params, mu)
    ref = integrate_flows(
        lambda Y, M: grad(Y, M),
        np.array(start),
        mus,
        1,
        settings.horizon(far) * 5,
        method="LSODA",
        rtol=1e-10,
        atol=1e-12,
    )
    return Regularized(start, mus, ref.states[0, :, 0], lam_max)


@dataclass(frozen=True)
class Paths(_Data):
    """Trajectories from one start (figure 1): gradient flow, GD at two learning rates, and the
    modified flows at the larger one.

    Attributes
    ----------
    start : tuple of float
    steps : tuple of float
        (small, moderate) learning rates, both below the stability limit at the start.
    gd : list of numpy.ndarray
        GD iterates for each step size, shape (k, 2): every iterate of the first 300 steps, then
        log-spaced ones up to the last (see ``gd_index``).
    gd_index : list of numpy.ndarray
        The step number n of each stored iterate.
    times : numpy.ndarray
        Times at which the flows are sampled.
    gradient_flow : numpy.ndarray, shape (n_t, 2)
    orders : tuple of int
    modified_flow : numpy.ndarray, shape (P, n_t, 2)
        The order-p modified flows at the moderate learning rate.
    """

    start: tuple
    steps: tuple
    gd: list
    gd_index: list
    times: np.ndarray
    gradient_flow: np.ndarray
    orders: tuple
    modified_flow: np.ndarray


def _thin(n: int, dense: int = 300, sparse: int = 1200) -> np.ndarray:
    """Step numbers 0..n to keep: all of the first ``dense``, then ``sparse`` log-spaced ones."""
    head = np.arange(min(n, dense) + 1)
    if n <= dense:
        return head
    return np.unique(np.concatenate([head, np.geomspace(dense, n, sparse).round().astype(int)]))


def trajectories(
    model: TwoParameter,
    start,
    steps,
    settings: Settings = Settings(),
    *,
    far: bool = False,
    orders=(1, 3),
    n_times: int = 600,
) -> Paths:
    """GD paths and flow lines from ``start`` (time ``settings.horizon(far)``).

    Examples
    --------
    >>> m = TwoParameter()
    >>> p = trajectories(m, m.start, (0.01, 0.05), Settings(quick=True))
    >>> [int(i[-1]) for i in p.gd_index], p.gd[1].shape, p.modified_flow.shape
    ([2000, 400], (401, 2), (2, 600, 2))
    """
    start = tuple(float(v) for v in start)
    steps = tuple(float(h) for h in steps)
    if max(steps) > float(model.stability_limit(np.array(start))):
        raise InputError(f"step sizes {steps} exceed the stability limit at {start}")
    horizon = settings.horizon(far)
    res = iterate(
        _gd_step(model),
        np.array(start),
        np.array(steps),
        _n_steps(np.array(steps), horizon),
        record=True,
    )
    index = [_thin(int(n)) for n in res.n_steps]
    gd = [res.trajectory[k, i, 0] for i, k in enumerate(index)]
    # flows sampled densely early (where they move fast) and sparsely late
    times = np.unique(np.concatenate([[0.0], np.geomspace(horizon * 1e-6, horizon, n_times - 1)]))
    orders = tuple(orders)
    field_ = _modified_field(model, (0, *orders))
    ref = integrate_flows(
        field_,
        np.array(start),
        np.array([steps[-1]]),
        len(orders) + 1,
        horizon,
        times=times,
        rtol=1e-10,
        atol=1e-12,
    )
    path = ref.path[:, :, 0, 0]  # (n_t, P, 2)
    return Paths(start, steps, gd, index, times, path[:, 0], orders, np.moveaxis(path[:, 1:], 1, 0))


@dataclass(frozen=True)
class RigPaths(_Data):
    """R_IG/E along GD paths for several learning rates (figure 4; Prediction 2.1).

    Attributes
    ----------
    start : tuple of float
    steps : numpy.ndarray, shape (n_h,)
    loss : list of numpy.ndarray
        E along each GD path (until it reaches ``floor``).
    ratio : list of numpy.ndarray
        R_IG/E along each path; for this model it equals x²(a² + b²).
    gradient_flow_loss, gradient_flow_ratio : numpy.ndarray
        The same along gradient flow (h → 0).
    floor : float
        Paths are cut where E first drops below it (R_IG/E is 0/0 at a minimum).
    """

    start: tuple
    steps: np.ndarray
    loss: list
    ratio: list
    gradient_flow_loss: np.ndarray
    gradient_flow_ratio: np.ndarray
    floor: float = field(default=1e-12)


def rig_along_path(
    model: TwoParameter, start, steps, settings: Settings = Settings(), *, floor: float = 1e-12
) -> RigPaths:
    """R_IG/E along GD from ``start`` at each learning rate, and along gradient flow.

    Examples
    --------
    >>> m = TwoParameter()
    >>> r = rig_along_path(m, m.start, [0.01, 0.05], Settings(quick=True))
    >>> bool(r.ratio[1][-1] < r.ratio[0][-1] < r.gradient_flow_ratio[-1])
    True
    """
    start = tuple(float(v) for v in start)
    steps = np.asarray(steps, dtype=float)
    horizon = settings.horizon(False)
    res = iterate(_gd_step(model), np.array(start), steps, _n_steps(steps, horizon), record=True)
    losses, ratios = [], []
    for i, n in enumerate(res.n_steps):  # a few learning rates: cut each path at the floor
        traj = res.trajectory[: n + 1, i, 0]
        E = model.loss_value(traj)
        keep = np.arange(E.size) < np.argmax(E < floor) if np.any(E < floor) else E > 0
        losses.append(E[keep])
        ratios.append(model.rig(traj[keep]) / E[keep])
    times = np.geomspace(horizon * 1e-6, horizon, 800)
    ref = integrate_flows(
        _modified_field(model, (0,)),
        np.array(start),
        steps[:1],
        1,
        horizon,
        times=times,
        rtol=1e-10,
        atol=1e-14,
    )
    gf = ref.path[:, 0, 0, 0]
    E = model.loss_value(gf)
    keep = E >= floor
    return RigPaths(start, steps, losses, ratios, E[keep], model.rig(gf[keep]) / E[keep], floor)


@dataclass(frozen=True)
class Curl(_Data):
    """The curl ∂f₂ᵇ/∂a − ∂f₂ᵃ/∂b of the order-2 modified field over the plane (figure 6).

    Attributes
    ----------
    a, b : numpy.ndarray, shape (n,)
        Grid axes.
    curl : numpy.ndarray, shape (n, n)
        ``curl[j, i]`` at (a[i], b[j]); the truncated field's curl is h² times it.
    expression : str
        The curl, factored (sympy string).
    expr : sympy expression
        The curl itself (exact).
    """

    a: np.ndarray
    b: np.ndarray
    curl: np.ndarray
    expression: str
    expr: sp.Expr = field(default=sp.Integer(0), repr=False, compare=False)


def curl_order2(model: TwoParameter, settings: Settings = Settings(), *, extent=3.0) -> Curl:
    """The curl of f₂ on [−extent, extent]², from the derived flow's antisymmetric Jacobian.

    Examples
    --------
    >>> c = curl_order2(TwoParameter(), Settings(quick=True))
    >>> c.expression
    '-(a + b)*(a - b)*(5*a*b - 3)*(a**2 + b**2)/15'
    >>> bool(np.abs(np.diag(c.curl)).max() < 1e-12)   # zero on a = b
    True
    """
    flow = modified_flow(model.loss, model.params, order=2)
    curl = 2 * flow.antisymmetric_jacobian(2)[1, 0]
    f = compile_expressions([curl], model.params)
    axis = np.linspace(-extent, extent, settings.curl_grid)
    A, B = np.meshgrid(axis, axis)
    values = f(np.stack([A, B], -1))[..., 0]
    return Curl(axis, axis.copy(), values, _factored(curl, model.params), sp.factor(curl))


def _factored(expr: sp.Expr, gens) -> str:
    """A canonical factored string: each factor with a positive leading coefficient (lex order),
    factors sorted, so that the text does not depend on sympy's internal state."""
    coeff, factors = sp.factor_list(sp.expand(expr), *gens)
    parts = []
    for f, k in factors:
        poly = sp.Poly(f, *gens)
        if poly.LC() < 0:
            poly, coeff = -poly, coeff * (-1) ** k
        text = sp.sstr(poly.as_expr(), order="lex")
        parts.append(f"({text})" + (f"**{k}" if k > 1 else ""))
    parts.sort(key=lambda t: (len(t), t))
    num, den = sp.fraction(sp.Rational(coeff))
    head = "-" if num < 0 else ""
    body = "*".join(([str(abs(num))] if abs(num) != 1 else []) + parts)
    return head + body + (f"/{den}" if den != 1 else "")


#: Most steps a single GD run of the study may take.
MAX_STUDY_STEPS = 2e6

#: Learning rates of the R_IG/E experiment, as fractions of the stability limit at the paper's start.
RIG_FRACTIONS = (0.05, 0.3, 0.6, 0.9)

#: The stages of :func:`run`, in order (for progress reports).
STAGES = (
    "trajectories",
    "verification",
    "learning-rate sweeps",
    "explicit regularization",
    "R_IG along paths",
    "curl of order 2",
)


def nice_step(h: float) -> float:
    """h rounded to one significant digit (readable legends).

    Examples
    --------
    >>> nice_step(0.0411), nice_step(1.78e-05)
    (0.04, 2e-05)
    """
    e = np.floor(np.log10(h))
    return float(np.round(h / 10**e) * 10**e)


@dataclass(frozen=True)
class StudyResults:
    """Everything the two-parameter study computes, once; figures and report read it.

    Attributes
    ----------
    model : TwoParameter
    settings : Settings
    paths : dict str → Paths
        Trajectories from the ``"near"`` (paper's) and ``"far"`` starts.
    verification : Verification
        Theorem 3.1 and its higher-order analogues from the paper's start, orders 0–3.
    sweeps : dict str → Sweep
    regularized : dict str → Regularized
    rig : RigPaths
    curl : Curl
    """

    model: TwoParameter
    settings: Settings
    paths: dict
    verification: Verification
    sweeps: dict
    regularized: dict
    rig: RigPaths
    curl: Curl

    @property
    def starts(self) -> dict:
        """Start name → (point, far?)."""
        return {"near": (self.model.start, False), "far": (self.model.far_start, True)}


def check_size(model: TwoParameter, settings: Settings = Settings()) -> None:
    """Refuse model data for which the study's GD runs would take too many steps.

    Examples
    --------
    >>> check_size(TwoParameter(x=100))
    Traceback (most recent call last):
    ...
    bea.errors.InputError: with x = 100, y = 0.6 the stability limit at (2.8, 3.5) is 6.7e-06, ...
    """
    for start, far in ((model.start, False), (model.far_start, True)):
        limit = float(model.stability_limit(np.array(start)))
        steps = settings.horizon(far) / (settings.sweep_range[0] * limit)
        if steps > MAX_STUDY_STEPS:
            raise InputError(
                f"with x = {model.x:g}, y = {model.y:g} the stability limit at {start} is "
                f"{limit:.2g}, so the study's runs would take {steps:.2g} steps (at most "
                f"{MAX_STUDY_STEPS:.0e}); the study is sized for data of order one"
            )


def run(model: TwoParameter | None = None, settings: Settings = Settings(), stage=None):
    """Run every experiment of the study once.

    Parameters
    ----------
    model : TwoParameter, optional
        Default ``TwoParameter()`` (x = 1, y = 0.6).
    settings : Settings
    stage : callable, optional
        Called with each name of :data:`STAGES` as that stage starts (progress reports).

    Returns
    -------
    StudyResults

    Examples
    --------
    >>> r = run(settings=Settings(quick=True))
    >>> sorted(r.sweeps), round(r.verification.local_slopes[1], 1)
    (['far', 'near'], 3.0)
    """
    model = TwoParameter() if model is None else model
    stage = stage or (lambda name: None)
    check_size(model, settings)
    starts = {"near": (model.start, False), "far": (model.far_start, True)}
    stage(STAGES[0])
    paths = {}
    for name, (start, far) in starts.items():
        limit = float(model.stability_limit(np.array(start)))
        hs = tuple(nice_step(f * limit) for f in settings.path_fractions)
        paths[name] = trajectories(model, start, hs, settings, far=far)
    stage(STAGES[1])
    verification = verify(model.loss, model.params, model.start, orders=(0, 1, 2, 3))
    stage(STAGES[2])
    sweeps = {
        name: learning_rate_sweep(model, start, settings, far=far)
        for name, (start, far) in starts.items()
    }
    stage(STAGES[3])
    regs = {
        name: explicit_regularization(model, start, settings, far=far)
        for name, (start, far) in starts.items()
    }
    stage(STAGES[4])
    limit = float(model.stability_limit(np.array(model.start)))
    rig = rig_along_path(
        model, model.start, [nice_step(f * limit) for f in RIG_FRACTIONS], settings
    )
    stage(STAGES[5])
    curl = curl_order2(model, settings)
    return StudyResults(model, settings, paths, verification, sweeps, regs, rig, curl)
