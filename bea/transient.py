"""Adam's bias correction: how long its transient lasts and how large it is.

Adam as practitioners run it starts from m₀ = v₀ = 0 and divides the moments by 1 − β₁ᵏ and
1 − β₂ᵏ at step k. bea derives Adam's modified flows on the *slow manifold* of the moments,
m, v = W(θ) = W₀ + hW₁ + …, which an iteration reaches only after a transient. This module
measures that transient and states what holds after it.

With bias correction the moment m̂ₖ is a normalised average of past gradients, whose mean lag
behind θₖ is Lₖ = β/(1 − β) − kβᵏ/(1 − βᵏ) steps instead of the steady β/(1 − β). Since
g(θⱼ) ≈ g(θₖ) − (k − j)h H F₀, the used moments miss the slow manifold by

    m̂ₖ − [β₁W_m + (1 − β₁)g](θₖ) ≈ h · H F₀ · kβ₁ᵏ/(1 − β₁ᵏ),
    v̂ₖ − [β₂W_v + (1 − β₂)g²](θₖ) ≈ h · 2g⊙H F₀ · kβ₂ᵏ/(1 − β₂ᵏ),

with F₀ the leading field: an O(h) deviation that decays like kβᵏ. Without the correction (and
m₀ = v₀ = 0) the deviation is O(1) (the moments start at zero) and decays like βᵏ. After the
transient — once h·kβᵏ/(1 − βᵏ) is below the tolerance one needs — bias-corrected Adam is
bea's Adam on its slow manifold, and its modified flows apply from that step on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ._checks import finite_floats
from .derive import modified_flow
from .errors import InputError
from .numeric.compile import compile_expressions
from .optim import Adam, RMSProp
from .parsing import numeric_values, prepare_loss

__all__ = ["Transient", "bias_correction_transient"]

#: Most steps :func:`bias_correction_transient` runs.
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Transient:
    """Distance of bias-corrected Adam's moments from the slow manifold, step by step.

    Attributes
    ----------
    steps : numpy.ndarray, shape (n_h,)
        Step sizes h.
    k : numpy.ndarray, shape (n,)
        Step numbers 1 … n.
    measured : dict[str, numpy.ndarray of shape (n_h, n)]
        ``"m"`` and ``"v"``: largest component of ∣used moment − its slow-manifold value∣ with
        bias correction; ``"m, no correction"`` and ``"v, no correction"`` the same for the
        uncorrected moments from m₀ = v₀ = 0.
    predicted : dict[str, numpy.ndarray of shape (n_h, n)]
        ``"m"`` and ``"v"``: the leading-order prediction h·∣H F₀∣·kβᵏ/(1 − βᵏ) (largest
        component).
    beta1, beta2 : float
        The method's β₁ and β₂.

    Examples
    --------
    >>> import bea
    >>> from bea.optim import Adam
    >>> tr = bea.bias_correction_transient("t**4/4 + t**2/2", ["t"], [0.8], Adam(0.5, 0.75, 0.1),
    ...                                    steps=[0.01], n=20)
    >>> bool(tr.measured["m"][0, 0] < 0.1 * tr.measured["m, no correction"][0, 0])
    True
    """

    steps: np.ndarray
    k: np.ndarray
    measured: dict
    predicted: dict
    beta1: float
    beta2: float

    def plot(self, ax=None):
        """Deviation against step number, measured and predicted (see :mod:`bea.plots`).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots.convergence import plot_transient

        return plot_transient(self, ax=ax)

    def length(self, tolerance: float, h: float | None = None) -> int:
        """Steps until the predicted deviation stays below ``tolerance`` (largest of m and v).

        Parameters
        ----------
        tolerance : float
            Largest deviation from the slow manifold to accept.
        h : float, optional
            Which step size (default: the first).

        Examples
        --------
        >>> import bea
        >>> from bea.optim import Adam
        >>> tr = bea.bias_correction_transient("t**2/2", ["t"], [1.0], Adam(0.5, 0.75, 0.1),
        ...                                    steps=[0.01], n=200)
        >>> tr.length(1e-6)
        46
        """
        tolerance = float(finite_floats(tolerance, "the tolerance"))
        if tolerance <= 0:
            raise InputError(f"the tolerance must be positive, got {tolerance:g}")
        hv = None if h is None else float(finite_floats(h, "h"))
        i = 0 if hv is None else int(np.argmin(np.abs(self.steps - hv)))
        worst = np.maximum(self.predicted["m"][i], self.predicted["v"][i])
        above = np.nonzero(worst >= tolerance)[0]
        if above.size and above[-1] == worst.size - 1:
            raise InputError(f"the deviation is still above {tolerance:g} after {worst.size} steps")
        return int(self.k[above[-1]] + 1) if above.size else 1


def _lag_excess(beta: float, k: np.ndarray) -> np.ndarray:
    """kβᵏ/(1 − βᵏ): the shortfall of the bias-corrected average's mean lag (0 when β = 0)."""
    if beta == 0:
        return np.zeros(k.shape)
    return k * beta**k / (1 - beta**k)


def bias_correction_transient(
    loss: sp.Expr | str,
    params: Sequence[sp.Symbol | str],
    point: Sequence[float],
    method: Adam | RMSProp,
    *,
    steps: Sequence[float] = (0.02, 0.01, 0.005),
    n: int = 200,
    values: Mapping | None = None,
) -> Transient:
    """Measure the transient of bias-corrected Adam (or RMSProp) against bea's slow manifold.

    Runs n steps of Adam with bias correction (m₀ = v₀ = 0, m̂ₖ = mₖ/(1 − β₁ᵏ),
    v̂ₖ = vₖ/(1 − β₂ᵏ)) from ``point`` for each step size (batched over the step sizes, float64),
    and at every step compares the moments the step uses with their values on the slow manifold
    that bea derives (to order 2 in h, so that its own O(h³) error stays below the transient). The deviation is O(h) and decays like kβᵏ, as predicted
    in closed form by the mean lag of the corrected averages (see :mod:`bea.transient`); without
    the correction it is O(1). The same run without the correction is recorded for contrast.

    Parameters
    ----------
    loss : sympy expression or str
    params : sequence of sympy Symbol or str
    point : sequence of float
        The starting θ₀.
    method : bea.optim.Adam, AdamW or RMSProp
        With numeric β₁, β₂, ε (``eps_outside`` and AdamW's decay are honoured).
    steps : sequence of float
        Step sizes h.
    n : int
        Number of steps.
    values : mapping, optional
        Numeric values of the loss's other symbols.

    Returns
    -------
    Transient

    Raises
    ------
    bea.InputError
        A method that is not Adam-like, symbolic hyper-parameters, a bad point, steps or n, or an
        iteration that leaves float64.

    Examples
    --------
    >>> import bea
    >>> from bea.optim import Adam
    >>> tr = bea.bias_correction_transient("t**4/4 + t**2/2", ["t"], [0.8], Adam(0.5, 0.75, 0.1),
    ...                                    steps=[0.01, 0.005], n=30)
    >>> ratio = tr.measured["m"][:, 4] / tr.predicted["m"][:, 4]     # step 5
    >>> bool(abs(ratio[1] - 1) < abs(ratio[0] - 1) < 0.2)             # → 1 as h → 0
    True
    """
    if not isinstance(method, Adam | RMSProp):
        raise InputError("bias_correction_transient takes Adam, AdamW or RMSProp")
    hyper = [method.beta1, method.beta2, method.eps] + [getattr(method, "lam", 0)]
    if not all(sp.sympify(x).is_number for x in hyper):
        raise InputError("give Adam numeric beta1, beta2 and eps (and AdamW a numeric lam)")
    loss, params, h = prepare_loss(loss, params)
    d = len(params)
    theta0 = finite_floats(point, "the point").reshape(-1)
    if theta0.shape != (d,):
        raise InputError(f"the point must be {d} numbers, got {point!r}")
    hs = finite_floats(steps, "steps").reshape(-1)
    if hs.size < 1 or np.any(hs <= 0):
        raise InputError("steps must be positive numbers")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS:
        raise InputError(f"n must be a whole number from 1 to {MAX_STEPS}, got {n!r}")
    vals = numeric_values(values, (*params, h))
    flow = modified_flow(loss, params, 2, method=method)
    b1, b2, eps, lam = (float(x) for x in hyper)
    # (m; v) before the step, to order 2: its own error, O(h³), stays below the O(h) transient
    W = flow.slow_manifold[0] + h * flow.slow_manifold[1] + h**2 * flow.slow_manifold[2]
    g = [sp.diff(loss, p) for p in params]
    HF0 = sp.Matrix(g).jacobian(params) * flow.terms[0]
    used = [b1 * W[i] + (1 - b1) * g[i] for i in range(d)]
    used += [b2 * W[d + i] + (1 - b2) * g[i] ** 2 for i in range(d)]
    on_manifold = compile_expressions(used, params, h=h, values=vals)
    drift = compile_expressions([*HF0, *(2 * g[i] * HF0[i] for i in range(d))], params, values=vals)
    grad = compile_expressions(g, params, values=vals)

    def scale(v):
        return 1 / (np.sqrt(v) + eps) if method.eps_outside else 1 / np.sqrt(v + eps)

    k = np.arange(1, n + 1)
    runs = {}
    for corrected in (True, False):
        theta = np.tile(theta0, (hs.size, 1))
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        dev_m, dev_v, pred_m, pred_v = (np.empty((hs.size, n)) for _ in range(4))
        with np.errstate(all="ignore"):
            for j in range(n):  # the iteration is sequential; step sizes run side by side
                gk = grad(theta)
                m = b1 * m + (1 - b1) * gk
                v = b2 * v + (1 - b2) * gk**2
                mh, vh = (m / (1 - b1 ** (j + 1)), v / (1 - b2 ** (j + 1))) if corrected else (m, v)
                ref = on_manifold(theta, hs)
                dev_m[:, j] = np.abs(mh - ref[:, :d]).max(axis=1)
                dev_v[:, j] = np.abs(vh - ref[:, d:]).max(axis=1)
                slope = np.abs(drift(theta))
                pred_m[:, j] = hs * slope[:, :d].max(axis=1) * _lag_excess(b1, k[j : j + 1])
                pred_v[:, j] = hs * slope[:, d:].max(axis=1) * _lag_excess(b2, k[j : j + 1])
                theta = theta - hs[:, None] * (mh * scale(vh) + lam * theta)
        if not np.all(np.isfinite(theta)):
            raise InputError("the iteration left float64; use smaller steps")
        runs[corrected] = (dev_m, dev_v, pred_m, pred_v)
    measured = {
        "m": runs[True][0],
        "v": runs[True][1],
        "m, no correction": runs[False][0],
        "v, no correction": runs[False][1],
    }
    predicted = {"m": runs[True][2], "v": runs[True][3]}
    return Transient(hs, k, measured, predicted, b1, b2)
