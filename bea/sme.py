"""Stochastic modified equations of SGD with sampling with replacement (Li, Tai & E).

Stochastic gradient descent that draws its mini-batch afresh at every step,
θ ← θ − h ∇C_γ(θ) with γ uniform, is a Markov chain. To weak order 2 (moments of smooth test
functions after a fixed time, to O(h²)) it follows the Itô SDE

    dθ = −∇(E + (h/4)‖∇E‖²) dt + √h Σ(θ)^{1/2} dW,

where E is the mean loss and Σ(θ) the covariance of the mini-batch gradient ∇C_γ (Li, Tai & E,
*Stochastic modified equations and adaptive stochastic gradient algorithms*, ICML 2017;
JMLR 2019). The drift is the gradient of the paper's modified loss, the full-batch one: the
mini-batch noise enters only through Σ. To weak order 1 the drift is −∇E alone.

Random shuffling (every batch once per epoch) is a different chain; its mean iterate is
:class:`bea.optim.SGD` (Smith, Dherin, Barrett & De), whose modified loss is this drift's loss plus
(h/4) tr Σ averaged over the batches.

:func:`stochastic_modified_equation` derives the drift and Σ exactly (sympy);
:func:`verify_weak` measures the weak order by Monte Carlo, batched in NumPy: the first and second
moments of θ after N = T/h steps of SGD against those of the SDE, for a range of h. Both sides use
a control variate whose expectation is known exactly (the process linearised about its
noise-free path), which cuts the Monte Carlo variance by a factor of order 1/h; the SDE is solved
by Euler–Maruyama on sub-steps with Richardson extrapolation (weak order 2 in the sub-step).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ._checks import finite_floats
from .derive import modified_flow
from .errors import InputError
from .numeric.compile import compile_expressions
from .numeric.fit import fit_slope
from .parsing import as_expression, check_step_symbol, numeric_values, parse_params

__all__ = ["StochasticModifiedEquation", "WeakVerification", "stochastic_modified_equation"]
__all__ += ["verify_weak"]

#: Most mini-batch losses (or examples) :func:`stochastic_modified_equation` takes.
MAX_LOSSES = 64
#: Most Monte Carlo paths :func:`verify_weak` runs per step size.
MAX_PATHS = 10_000_000
#: Most entries of one per-path gradient array (paths × examples × parameters), about 80 MB.
MAX_ENTRIES = 10_000_000
#: Most distinct batches the control variate of :func:`verify_weak` averages over.
MAX_BATCHES = 10_000


@dataclass(frozen=True)
class StochasticModifiedEquation:
    """The stochastic modified equation dθ = b(θ) dt + √h Σ(θ)^{1/2} dW of SGD with replacement.

    Attributes
    ----------
    params : tuple of sympy Symbol
        The parameters θ.
    h : sympy Symbol
        The step size (also the time of one step).
    losses : tuple of sympy expressions
        The per-example losses C₁ … C_n; the loss E is their mean.
    batch_size : int
        B: each step averages B distinct examples drawn uniformly (B = 1: one example).
    order : int
        Weak order of the equation: 1 (drift −∇E) or 2 (drift −∇(E + (h/4)‖∇E‖²)).
    loss : sympy expression
        E = (1/n) Σ C_k.
    drift_loss : sympy expression
        The loss whose negative gradient is the drift.
    drift : tuple of sympy expressions
        b(θ) = −∇ drift_loss.
    covariance : sympy Matrix
        Σ(θ), the covariance of the mini-batch gradient: c/n Σ_k (∇C_k − ∇E)(∇C_k − ∇E)ᵀ with
        c = (n − B)/(B (n − 1)) (c = 1 for B = 1). Zero with ``sampling="shuffle"``.
    sampling : {"replacement", "shuffle"}
        A fresh batch at every step, or every example once per epoch in a random order.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a = sp.Symbol("a")
    >>> sme = bea.stochastic_modified_equation([(a - 1)**2 / 2, (a + 1)**2 / 2], [a])
    >>> sme.drift_loss
    a**2*h/4 + a**2/2 + 1/2
    >>> sme.covariance
    Matrix([[1]])
    """

    params: tuple
    h: sp.Symbol
    losses: tuple
    batch_size: int
    order: int
    loss: sp.Expr
    drift_loss: sp.Expr
    drift: tuple
    covariance: sp.Matrix = field(repr=False)
    sampling: str = "replacement"

    def noise_columns(self) -> sp.Matrix:
        """A d × n matrix S with S Sᵀ = Σ_B: column k is √(c/n) (∇C_k − ∇E).

        Σ_B is the covariance of a batch's gradient (the diffusion with replacement; with
        shuffling it enters the drift only).

        Examples
        --------
        >>> import sympy as sp, bea
        >>> a = sp.Symbol("a")
        >>> sme = bea.stochastic_modified_equation([a**2 / 2, a**2 / 2 + a], [a])
        >>> sme.noise_columns()
        Matrix([[-sqrt(2)/4, sqrt(2)/4]])
        """
        n = len(self.losses)
        grads = [[sp.diff(c, p) for p in self.params] for c in self.losses]
        mean = [sum(g[i] for g in grads) / n for i in range(len(self.params))]
        scale = sp.sqrt(_batch_factor(n, self.batch_size) / n)

        return sp.Matrix(
            [
                [_tidy(scale * (g[i] - mean[i]), self.params) for g in grads]
                for i in range(len(self.params))
            ]
        )

    def __str__(self) -> str:
        theta = ", ".join(map(str, self.params))
        if self.sampling == "shuffle":
            return (
                f"d({theta}) = -grad({self.drift_loss}) dt (random shuffling: no diffusion to "
                f"weak order {self.order})"
            )
        return (
            f"d({theta}) = -grad({self.drift_loss}) dt + sqrt({self.h}) Sigma^(1/2) dW, "
            f"Sigma = {self.covariance.tolist()} (weak order {self.order})"
        )


def _tidy(expr: sp.Expr, params) -> sp.Expr:
    """Expanded when polynomial in the parameters (cheap and readable); left as built otherwise
    (expanding products of exp/log terms is what made large losses slow)."""
    return sp.expand(expr) if expr.is_polynomial(*params) else expr


def _batch_factor(n: int, batch: int) -> sp.Rational:
    """c in Σ_B = c Σ₁: B distinct examples of n drawn uniformly (without replacement)."""
    return sp.Integer(1) if batch == 1 else sp.Rational(n - batch, batch * (n - 1))


def stochastic_modified_equation(
    losses: Sequence[sp.Expr | str],
    params: Sequence[sp.Symbol | str],
    order: int = 2,
    *,
    batch_size: int = 1,
    sampling: str = "replacement",
    h: sp.Symbol | None = None,
) -> StochasticModifiedEquation:
    """The stochastic modified equation of SGD, sampling with replacement or by shuffling.

    SGD here is θ ← θ − h ∇C_S(θ), where C_S is the mean of a batch S of B examples.

    - ``sampling="replacement"``: S is B distinct examples drawn uniformly at every step,
      independently of the past. The weak order-2 SDE (Li, Tai & E) is
      dθ = −∇(E + (h/4)‖∇E‖²) dt + √h Σ^{1/2} dW; at order 1 the drift is −∇E. The drift is bea's
      own gradient-descent flow of E (checked against the closed form: the paper's Ẽ); the
      mini-batch noise enters only through Σ.
    - ``sampling="shuffle"``: every epoch visits the n examples once, in batches of B, in a fresh
      random order. Over an epoch the batch noises sum to zero, so what is left of them is O(h²)
      per epoch: the diffusion is O(h^{3/2}) and changes moments only at O(h³). To weak order 2
      the equation is deterministic, dθ = −∇(E + (h/4)(‖∇E‖² + tr Σ_B)) dt — Smith et al.'s
      mean-iterate loss (for B = 1, E + (h/4n) Σ_k ‖∇C_k‖²), averaged over the random batches.

    Parameters
    ----------
    losses : sequence of sympy expressions or str
        Per-example losses C₁ … C_n (n ≥ 2); the loss is their mean. Strings are parsed safely.
    params : sequence of sympy Symbol or str
        The parameters.
    order : {1, 2}
        Weak order of the equation.
    batch_size : int
        Examples per step, 1 ≤ B < n (with shuffling, B must divide n).
    sampling : {"replacement", "shuffle"}
        How batches are drawn.
    h : sympy Symbol, optional
        The step-size symbol (default ``h``).

    Returns
    -------
    StochasticModifiedEquation

    Raises
    ------
    bea.InputError
        Fewer than two losses, more than 64, a bad order or batch size, or a loss that does not
        use the parameters.

    Examples
    --------
    Two examples of a linear regression, y = w x at (x, y) = (1, 1) and (2, 0):

    >>> import bea
    >>> sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(2*w)**2/2"], ["w"])
    >>> sme.drift
    (-25*h*w/8 + 5*h/8 - 5*w/2 + 1/2,)
    >>> sme.covariance
    Matrix([[9*w**2/4 + 3*w/2 + 1/4]])
    """
    params = parse_params(params)
    h = check_step_symbol(h, default=sp.Symbol("h"))
    if isinstance(losses, str | sp.Basic) or not isinstance(losses, Sequence):
        raise InputError("losses must be a sequence of per-example losses")
    if not 2 <= len(losses) <= MAX_LOSSES:
        raise InputError(f"give between 2 and {MAX_LOSSES} per-example losses, got {len(losses)}")
    if h in params:
        raise InputError(f"{h} stands for the step size and cannot be a parameter")
    if isinstance(order, bool) or order not in (1, 2):
        raise InputError(f"order must be 1 or 2 (Li, Tai & E's weak orders), got {order!r}")
    n = len(losses)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise InputError(f"batch_size must be a whole number, got {batch_size!r}")
    if not 1 <= batch_size < n:
        raise InputError(f"batch_size must be between 1 and {n - 1} (n = {n}), got {batch_size}")
    if sampling not in ("replacement", "shuffle"):
        raise InputError(f"sampling must be 'replacement' or 'shuffle', got {sampling!r}")
    if sampling == "shuffle" and n % batch_size:
        raise InputError(f"with shuffling the batch size must divide n = {n}, got {batch_size}")
    exprs = tuple(as_expression(c, params, what="per-example loss") for c in losses)
    for c in exprs:
        if h in c.free_symbols:
            raise InputError(f"a per-example loss uses {h}, which stands for the step size")
    loss = _tidy(sum(exprs, sp.Integer(0)) / n, params)
    if not set(params) & loss.free_symbols:
        raise InputError("the mean loss does not depend on the parameters")
    sme = StochasticModifiedEquation(
        params, h, exprs, batch_size, order, loss, loss, (), sp.zeros(len(params)), sampling
    )
    S = sme.noise_columns()
    batch_covariance = (S * S.T).applyfunc(lambda e: _tidy(e, params))
    drift_loss = _tidy(_drift_loss(sme, order, batch_covariance.trace()), params)
    if sampling == "replacement":
        # the drift is bea's own gradient-descent flow of E to order − 1 (the Taylor route):
        # a derivation independent of the closed-form drift loss (the tests compare them)
        field = modified_flow(loss, params, order - 1, h=h).vector_field()
        drift = tuple(_tidy(e, params) for e in field)
        covariance = batch_covariance
    else:
        drift = tuple(_tidy(-sp.diff(drift_loss, p), params) for p in params)
        covariance = sp.zeros(len(params))
    return dataclasses.replace(sme, drift_loss=drift_loss, drift=drift, covariance=covariance)


def _drift_loss(sme: StochasticModifiedEquation, order: int, trace: sp.Expr) -> sp.Expr:
    """E (order 1); E + (h/4)‖∇E‖² (order 2, replacement); plus (h/4) tr Σ_B with shuffling."""
    if order == 1:
        return sme.loss
    grad2 = sum(sp.diff(sme.loss, p) ** 2 for p in sme.params)
    extra = trace if sme.sampling == "shuffle" else 0
    return sme.loss + sme.h / 4 * (grad2 + extra)


# ---------------------------------------------------------------------------- weak verification
@dataclass(frozen=True)
class WeakVerification:
    """Weak errors of a stochastic modified equation against SGD, measured by Monte Carlo.

    Attributes
    ----------
    steps : numpy.ndarray, shape (n_h,)
        Step sizes h; each run takes N = horizon / h steps.
    horizon : float
        The time T = N h.
    labels : tuple of str
        The moments compared: E θ_i and E θ_i θ_j (i ≤ j).
    sgd : numpy.ndarray, shape (n_h, k)
        Moments of SGD after N steps.
    sde : dict[int, numpy.ndarray of shape (n_h, k)]
        Moments of the SDE of each weak order at time T.
    errors : dict[int, numpy.ndarray of shape (n_h,)]
        Largest absolute moment difference per step size.
    stderr : dict[int, numpy.ndarray of shape (n_h,)]
        Monte Carlo standard error of that difference.
    fits : dict[int, SlopeFit]
        Fitted weak order (expected: the equation's order); differences below three standard
        errors are dropped as "at the floor".
    paths : int
        Monte Carlo paths per side and step size.
    seed : int
        Seed of the random generator.

    Examples
    --------
    >>> import bea
    >>> sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(w + 1)**2"], ["w"])
    >>> v = bea.verify_weak(sme, [0.5], steps=[0.2, 0.1], paths=20_000)
    >>> v.labels
    ('E[w]', 'E[w*w]')
    """

    steps: np.ndarray
    horizon: float
    labels: tuple
    sgd: np.ndarray
    sde: dict
    errors: dict
    stderr: dict
    fits: dict
    paths: int
    seed: int

    def plot(self, ax=None):
        """Weak error against step size, log–log, with ±2 standard errors and fitted slopes.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> import bea, matplotlib
        >>> matplotlib.use("Agg")
        >>> sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(w + 1)**2"], ["w"])
        >>> fig = bea.verify_weak(sme, [0.5], steps=[0.2, 0.1], paths=2000).plot()
        >>> import matplotlib.pyplot as plt; plt.close(fig)
        """
        from .plots.convergence import plot_weak

        return plot_weak(self, ax=ax)

    def summary(self) -> str:
        """A table: h, then per order the error, its standard error and the fitted slope.

        Examples
        --------
        >>> import bea
        >>> sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(w + 1)**2"], ["w"])
        >>> v = bea.verify_weak(sme, [0.5], steps=[0.2, 0.1], paths=20_000)
        >>> print(v.summary().splitlines()[0])
        weak errors of moments at T = 1 (float64, 20000 paths per side)
        """
        lines = [
            f"weak errors of moments at T = {self.horizon:g} (float64, {self.paths} paths per side)"
        ]
        head = "h".rjust(10) + "".join(
            f"   order {p}: error ± stderr".ljust(32) for p in self.errors
        )
        lines.append(head)
        for i, hv in enumerate(self.steps):
            row = f"{hv:10.4g}"
            for p in self.errors:
                row += f"   {self.errors[p][i]:10.3e} ± {self.stderr[p][i]:9.2e}".ljust(32)
            lines.append(row)
        lines.append(
            "slopes: "
            + ", ".join(
                f"order {p}: {fit.slope:.2f} (expected {p})" for p, fit in self.fits.items()
            )
        )
        return "\n".join(lines)


def _compiled(sme: StochasticModifiedEquation, values: Mapping | None):
    """Batched NumPy functions: per-example gradients and Jacobians, drifts and their Jacobians."""
    params, h = sme.params, sme.h
    d, n = len(params), len(sme.losses)
    grads = [sp.diff(c, p) for c in sme.losses for p in params]
    jac = [sp.diff(g, q) for g in grads for q in params]
    allowed = set(params) | {h}
    symbols = set().union(*(c.free_symbols for c in sme.losses)) - allowed
    vals = numeric_values(values, list(params) + [h])
    missing = sorted(str(s) for s in symbols - set(vals))
    if missing:
        raise InputError(f"values needed for {', '.join(missing)}")
    G = compile_expressions(grads, params, values=vals)
    JG = compile_expressions(jac, params, values=vals)
    drifts = {}
    trace = 0
    if sme.sampling == "shuffle":
        S = sme.noise_columns()
        trace = sum(S[i, k] ** 2 for i in range(d) for k in range(n))
    for p in (1, 2):
        loss = _drift_loss(sme, p, trace)
        b = [-sp.diff(loss, q) for q in params]
        J = [sp.diff(bi, q) for bi in b for q in params]
        drifts[p] = (
            compile_expressions(b, params, h=h, values=vals),
            compile_expressions(J, params, h=h, values=vals),
        )

    def grad(Y):  # (..., n, d)
        return G(Y).reshape(*np.shape(Y)[:-1], n, d)

    def grad_jac(Y):  # (..., n, d, d)
        return JG(Y).reshape(*np.shape(Y)[:-1], n, d, d)

    return grad, grad_jac, drifts


def _moments(Y: np.ndarray, pairs) -> np.ndarray:
    """Per-path test functions θ_i and θ_iθ_j (i ≤ j): shape (..., d + len(pairs))."""
    products = [Y[..., i] * Y[..., j] for i, j in pairs]
    return np.concatenate([Y, np.stack(products, -1)], -1)


def _linear_moments(mean: np.ndarray, P: np.ndarray, pairs) -> np.ndarray:
    """Exact moments of a random vector with the given mean and covariance."""
    return np.concatenate([mean, [mean[i] * mean[j] + P[i, j] for i, j in pairs]])


def _sgd_side(grad, grad_jac, x0, hv, N, batches, paths, rng, pairs, cv=True):
    """SGD's moments after N steps and their Monte Carlo variances.

    Control variate: the chain linearised about the gradient-descent path x̄,
    Y ← (I − h Ĵ_S) Y − h (ĝ_S − ḡ) with Ĵ_S, ĝ_S the batch's Jacobian and gradient at x̄. Its
    mean stays 0 and its covariance P follows exactly by averaging over the batches.
    """
    d, nb = len(x0), len(batches)
    X = np.tile(x0, (paths, 1))
    Y = np.zeros((paths, d))
    xbar = x0.copy()
    P = np.zeros((d, d))
    eye = np.eye(d)
    for _ in range(N):
        k = rng.integers(0, nb, paths)
        g = grad(X)  # (paths, n, d)
        gS = np.take_along_axis(g, batches[k][..., None], axis=1).mean(1)
        gb, Jb = grad(xbar), grad_jac(xbar)  # (n, d), (n, d, d)
        gbar = gb.mean(0)
        dB = gb[batches].mean(1) - gbar  # (nb, d)
        A = eye - hv * Jb[batches].mean(1)  # (nb, d, d)
        Y = np.einsum("pij,pj->pi", A[k], Y) - hv * dB[k]
        P = (np.einsum("bij,jk,blk->il", A, P, A) + hv**2 * dB.T @ dB) / nb
        X = X - hv * gS
        xbar = xbar - hv * gbar
    if not cv:
        samples = _moments(X, pairs)
        return samples.mean(0), samples
    samples = _moments(X, pairs) - _moments(xbar + Y, pairs)
    return samples.mean(0) + _linear_moments(xbar, P, pairs), samples


def _shuffled_side(grad, x0, hv, N, batch, paths, rng, pairs):
    """Moments of SGD with random reshuffling after N steps (whole epochs), plain Monte Carlo:
    each path draws a fresh permutation of the n examples every epoch and takes them in batches
    of B. (Its variance is O(h³): no control variate is needed.)"""
    X = np.tile(x0, (paths, 1))
    n = grad(x0).shape[0]
    per_epoch = n // batch
    order = np.tile(np.arange(n), (paths, 1))
    for step in range(N):
        if step % per_epoch == 0:
            order = rng.permuted(order, axis=1)
        j = step % per_epoch
        S = order[:, j * batch : (j + 1) * batch]
        g = grad(X)
        X = X - hv * np.take_along_axis(g, S[..., None], axis=1).mean(1)
    samples = _moments(X, pairs)
    return samples.mean(0), samples


class _Linearised:
    """One Euler–Maruyama solution of the SDE with its linearised copy as control variate.

    X ← X + δ b(X) + √h c S(X) ΔW, and about the noise-free path x̄ ← x̄ + δ b(x̄):
    Y ← (I + δ J_b(x̄)) Y + √h c S(x̄) ΔW, whose mean stays 0 and whose covariance P follows
    exactly. S's columns are ∇C_k − ∇E; c = √(c_B/n).
    """

    def __init__(self, x0, paths, dt, hv, scale, grad, drift):
        d = len(x0)
        self.X, self.Y = np.tile(x0, (paths, 1)), np.zeros((paths, d))
        self.xbar, self.P = x0.copy(), np.zeros((d, d))
        self.dt, self.noise = dt, np.sqrt(hv) * scale
        self.hv, self.grad, self.b, self.Jb = hv, grad, drift[0], drift[1]

    def step(self, dW):
        d = self.xbar.size
        g = self.grad(self.X)
        gb = self.grad(self.xbar)
        S = (gb - gb.mean(0)).T  # (d, n)
        A = np.eye(d) + self.dt * self.Jb(self.xbar, self.hv).reshape(d, d)
        # Σ_k (∇C_k − ∇E) w_k = Σ_k ∇C_k (w_k − w̄): centre the n increments, not the gradients
        centred = dW - dW.mean(1, keepdims=True)
        noise = np.matmul(centred[:, None, :], g)[:, 0, :]
        self.X = self.X + self.dt * self.b(self.X, self.hv) + self.noise * noise
        self.Y = self.Y @ A.T + self.noise * dW @ S.T
        self.P = A @ self.P @ A.T + self.noise**2 * self.dt * S @ S.T
        self.xbar = self.xbar + self.dt * self.b(self.xbar, self.hv)

    def samples(self, pairs, cv):
        if not cv:
            return _moments(self.X, pairs)
        exact = _linear_moments(self.xbar, self.P, pairs)
        return _moments(self.X, pairs) - _moments(self.xbar + self.Y, pairs) + exact


def _sde_side(grad, drift, x0, hv, N, substeps, scale, paths, rng, pairs, cv=True):
    """The SDE's moments at time N h by Euler–Maruyama with Richardson extrapolation.

    Sub-steps δ = h/substeps and δ/2 run in lockstep on one Brownian path (the coarse increment
    is the sum of two fine ones), each with its control variate. Returns the extrapolated
    moments 2 m(δ/2) − m(δ) and the per-path samples of that combination.
    """
    n = grad(x0).shape[0]
    dt = hv / substeps
    coarse = _Linearised(x0, paths, dt, hv, scale, grad, drift)
    fine = _Linearised(x0, paths, dt / 2, hv, scale, grad, drift)
    for _ in range(N * substeps):
        w1, w2 = rng.standard_normal((2, paths, n)) * np.sqrt(dt / 2)
        fine.step(w1)
        fine.step(w2)
        coarse.step(w1 + w2)
    samples = 2 * fine.samples(pairs, cv) - coarse.samples(pairs, cv)
    return samples.mean(0), samples


def verify_weak(
    sme: StochasticModifiedEquation,
    point: Sequence[float],
    *,
    values: Mapping | None = None,
    steps: Sequence[float] | None = None,
    horizon: float = 1.0,
    paths: int = 200_000,
    substeps: int = 4,
    seed: int = 0,
    control_variate: bool = True,
) -> WeakVerification:
    """Measure the weak order of a stochastic modified equation against SGD, by Monte Carlo.

    For each step size h, SGD runs N = horizon/h steps from ``point`` on ``paths`` independent
    paths (batches drawn as ``sme.sampling`` says), and the SDE of each weak order (1 and 2) is
    solved to time T = N h on as many paths (on one path when it is deterministic, as with
    shuffling, whose horizon must then be a whole number of epochs at every h). The first and
    second moments (E θ_i, E θ_iθ_j) are compared; their largest difference should fall like h^p
    for the equation of weak order p. With replacement, both sides subtract a linearised copy of
    themselves whose moments are exact (variance of order h² instead of h). The SDE is solved by
    Euler–Maruyama on h/``substeps`` and half that, extrapolated (weak order 2 in the sub-step).
    All arithmetic is float64.

    Parameters
    ----------
    sme : StochasticModifiedEquation
        From :func:`stochastic_modified_equation` (its losses and batch size define SGD).
    point : sequence of float
        The starting point θ₀.
    values : mapping, optional
        Numeric values of the losses' other symbols (data).
    steps : sequence of float, optional
        Step sizes (default 0.1, 0.05, 0.025); horizon/h must be a whole number.
    horizon : float
        The time T.
    paths : int
        Monte Carlo paths per side and step size.
    substeps : int
        Euler–Maruyama sub-steps of the SDE per step of SGD (coarse level).
    seed : int
        Seed of the random generator (the result is deterministic).
    control_variate : bool
        Subtract the linearised copies (default). ``False`` gives plain Monte Carlo, for
        measuring what the control variates save (``benchmarks/bench_sme.py``).

    Returns
    -------
    WeakVerification

    Raises
    ------
    bea.InputError
        A point of the wrong length, a missing value, steps that do not divide the horizon,
        too many paths (or paths × examples × parameters over 10⁷), more than 10⁴ possible
        batches, or a run that leaves float64.

    Examples
    --------
    >>> import bea
    >>> sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(w + 1)**2"], ["w"])
    >>> v = bea.verify_weak(sme, [0.5], steps=[0.2, 0.1], paths=20_000)
    >>> bool(v.errors[2][1] < v.errors[1][1])
    True
    """
    d = len(sme.params)
    x0 = finite_floats(point, "the point").reshape(-1)
    if x0.shape != (d,):
        raise InputError(f"the point must be {d} numbers, got {point!r}")
    steps = finite_floats([0.1, 0.05, 0.025] if steps is None else steps, "steps").reshape(-1)
    horizon = float(finite_floats(horizon, "the horizon"))
    if not 0 < horizon <= 1e3:
        raise InputError(f"the horizon must be a positive number up to 1000, got {horizon!r}")
    if steps.size < 1 or not np.all(steps > 0):
        raise InputError("steps must be positive numbers")
    counts = np.rint(horizon / steps)
    if np.any(np.abs(counts * steps - horizon) > 1e-9 * horizon) or np.any(counts < 1):
        raise InputError("each step size must divide the horizon a whole number of times")
    if np.any(counts > 10_000):
        raise InputError("a step size needs more than 10,000 steps to reach the horizon")
    for name, v, top in (("paths", paths, MAX_PATHS), ("substeps", substeps, 64)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= top:
            raise InputError(f"{name} must be a whole number from 1 to {top}, got {v!r}")
    if not isinstance(control_variate, bool):
        raise InputError(f"control_variate must be True or False, got {control_variate!r}")
    n, B = len(sme.losses), sme.batch_size
    if paths * n * d > MAX_ENTRIES:
        raise InputError(
            f"{paths} paths × {n} examples × {d} parameters is over {MAX_ENTRIES:,} gradient "
            "entries per step (memory): use fewer paths"
        )
    shuffle = sme.sampling == "shuffle"
    if not shuffle and math.comb(n, B) > MAX_BATCHES:
        raise InputError(
            f"{math.comb(n, B):,} possible batches of {B} from {n} examples: the control variate "
            f"averages over all of them, at most {MAX_BATCHES:,}; use a smaller batch size"
        )
    grad, grad_jac, drifts = _compiled(sme, values)
    batches = None if shuffle else np.array(list(itertools.combinations(range(n), B)))
    scale = float(sp.sqrt(_batch_factor(n, B) / n))
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    names = [str(p) for p in sme.params]
    labels = tuple(f"E[{v}]" for v in names) + tuple(f"E[{names[i]}*{names[j]}]" for i, j in pairs)
    if shuffle and np.any(counts % (n // B)):
        raise InputError(
            f"with shuffling the horizon must be a whole number of epochs ({n // B} steps each) "
            "at every step size"
        )
    rng = np.random.default_rng(seed)
    sgd, sde, errors, stderr = [], {1: [], 2: []}, {1: [], 2: []}, {1: [], 2: []}
    with np.errstate(all="ignore"):
        for hv, N in zip(steps, counts.astype(int), strict=True):
            if shuffle:  # the equation is deterministic: one path of it is exact
                m_sgd, s_sgd = _shuffled_side(grad, x0, hv, N, B, paths, rng, pairs)
                sde_paths, scale = 1, 0.0
            else:
                m_sgd, s_sgd = _sgd_side(
                    grad, grad_jac, x0, hv, N, batches, paths, rng, pairs, control_variate
                )
                sde_paths = paths
            sgd.append(m_sgd)
            for p in (1, 2):
                m, s = _sde_side(
                    grad,
                    drifts[p],
                    x0,
                    hv,
                    N,
                    substeps,
                    scale,
                    sde_paths,
                    rng,
                    pairs,
                    control_variate,
                )
                sde[p].append(m)
                diff = np.abs(m - m_sgd)
                worst = int(np.argmax(diff))
                errors[p].append(diff[worst])
                stderr[p].append(
                    np.sqrt(s_sgd[:, worst].var() / paths + s[:, worst].var() / sde_paths)
                )
    if not np.all(np.isfinite(sgd)):
        raise InputError("SGD left float64 at these step sizes; use smaller steps")
    errors = {p: np.array(e) for p, e in errors.items()}
    stderr = {p: np.array(e) for p, e in stderr.items()}
    fits = {
        p: fit_slope(steps, errors[p], floor=0.3 * stderr[p], tolerance=0.1, min_points=2)
        for p in (1, 2)
    }
    return WeakVerification(
        steps,
        float(horizon),
        labels,
        np.array(sgd),
        {p: np.array(v) for p, v in sde.items()},
        errors,
        stderr,
        fits,
        paths,
        seed,
    )
