"""Local errors beyond float64: the orders of terms that float64 rounding hides.

:func:`bea.verify` measures in float64, where an error below about 10⁻¹⁵·‖θ‖ is rounding: on the
paper's model the local error of order p ≥ 4 is already there at ordinary step sizes, so the
terms bea derives at orders 4–8 cannot be confirmed in float64. :func:`verify_local` measures the
local error ‖Φ_h(y₀) − φ_h^{(p)}(y₀)‖ in arbitrary precision (mpmath): the step map and the
truncated modified field are compiled to mpmath (with common subexpressions), and the time-h flow
of the field is integrated by mpmath's Taylor-series ODE solver (:func:`mpmath.odefun`) at the
working precision. mpmath has no vector arithmetic, so this path loops over orders, step sizes
and points; it is for a few points and step sizes, not for the batched float64 studies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ._checks import check_order, finite_floats
from .errors import InputError
from .flow import ModifiedFlow
from .numeric.fit import fit_slope
from .parsing import numeric_values
from .step import StepMap

__all__ = ["LocalVerification", "verify_local"]

#: Most digits :func:`verify_local` accepts.
MAX_DIGITS = 1000


@dataclass(frozen=True)
class LocalVerification:
    """Local errors of a method against its truncated modified flows, in arbitrary precision.

    Attributes
    ----------
    orders : tuple of int
        Truncation orders p.
    steps : numpy.ndarray, shape (n_h,)
        Step sizes.
    points : numpy.ndarray, shape (n_points, d)
        Starting points.
    digits : int
        Working precision (decimal digits).
    errors : dict[int, numpy.ndarray of shape (n_h, n_points)]
        Local errors per order (computed in ``digits`` digits, stored as float64: their values,
        not their differences, must be representable).
    fits : dict[int, SlopeFit]
        Fitted orders of the worst error over the points; expected p + 2.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> from bea.optim import GD
    >>> t, h = sp.symbols("t h")
    >>> v = verify_local(bea.modified_flow(t**3 / 3, [t], 1), GD().step_map(t**3 / 3, (t,), h),
    ...                  [[0.5]], digits=30)
    >>> v.digits, sorted(v.errors), round(v.local_slopes[1])
    (30, [0, 1], 3)
    """

    orders: tuple[int, ...]
    steps: np.ndarray
    points: np.ndarray
    digits: int
    errors: dict
    fits: dict

    @property
    def local_slopes(self) -> dict[int, float]:
        """``{p: fitted order}``."""
        return {p: f.slope for p, f in self.fits.items()}

    def to_dict(self) -> dict:
        """Plain data (for JSON)."""
        return {
            "digits": self.digits,
            "orders": list(self.orders),
            "steps": self.steps.tolist(),
            "points": self.points.tolist(),
            "local_errors": {str(p): e.tolist() for p, e in self.errors.items()},
            "local_slopes": {str(p): s for p, s in self.local_slopes.items()},
        }

    def __str__(self) -> str:
        lines = [f"local errors in {self.digits} digits (expected slope p + 2):"]
        for p in self.orders:
            worst = self.errors[p].max(axis=1)
            shown = ", ".join(f"{e:.2e}" for e in worst)
            lines.append(f"  p = {p}: slope {self.fits[p].slope:.2f}  (errors {shown})")
        return "\n".join(lines)


def verify_local(
    flow: ModifiedFlow,
    step: StepMap,
    points,
    orders: Sequence[int] | None = None,
    steps=None,
    *,
    digits: int = 40,
    values: Mapping | None = None,
) -> LocalVerification:
    """Local errors of an explicit step map against its truncated modified flows, in ``digits``
    decimal digits, and their fitted orders.

    Parameters
    ----------
    flow : ModifiedFlow
        The modified field (e.g. from :func:`bea.modified_flow` or :func:`bea.modified_equation`).
    step : bea.step.StepMap
        The method's explicit step (``GD().step_map(...)``, ``RK4.step_map(...)``, …) on the
        same state and step-size symbol.
    points : array_like, shape (n_points, d)
        Starting points.
    orders : sequence of int, optional
        Truncation orders p ≤ ``flow.order`` (default: all, 0 … ``flow.order``).
    steps : array_like, optional
        Step sizes (default 1/32, 1/64, 1/128, 1/256).
    digits : int, default 40
        Working precision; the errors must stay well above 10^(−digits).
    values : mapping, optional
        Numbers for the other symbols (data, hyper-parameters).

    Returns
    -------
    LocalVerification

    Examples
    --------
    Gradient descent on the paper's model: order 5, whose local error float64 cannot resolve,
    has the slope 7.

    >>> import sympy as sp, bea
    >>> from bea.optim import GD
    >>> a, b, h = sp.symbols("a b h")
    >>> E = (sp.Rational(3, 5) - a * b) ** 2 / 2
    >>> v = verify_local(bea.modified_flow(E, [a, b], 5), GD().step_map(E, (a, b), h),
    ...                  [[1.5, 0.8]], orders=(5,))
    >>> round(v.local_slopes[5])
    7
    """
    import mpmath

    if not isinstance(flow, ModifiedFlow):
        raise InputError(f"flow must be a ModifiedFlow, got {type(flow).__name__}")
    if not isinstance(step, StepMap):
        raise InputError(
            f"step must be an explicit bea.step.StepMap, got {type(step).__name__} (implicit "
            "and multistep methods are not supported on this path)"
        )
    state, h = tuple(flow.state), flow.h
    if tuple(step.state) != state or step.h != h:
        raise InputError(
            f"the step acts on {step.state} with step size {step.h}, the flow on {state} with {h}"
        )
    if isinstance(digits, bool) or not isinstance(digits, int) or not 16 <= digits <= MAX_DIGITS:
        raise InputError(f"digits must be a whole number in 16..{MAX_DIGITS}, got {digits!r}")
    if orders is None:
        orders = range(flow.order + 1)
    orders = tuple(check_order(p, maximum=flow.order) for p in orders)
    if not orders:
        raise InputError("give at least one order")
    if values is not None and not isinstance(values, Mapping):
        raise InputError(f"values must be a mapping of names to numbers, got {values!r}")
    pts = np.atleast_2d(finite_floats(points, "points"))
    hs = finite_floats([1 / 32, 1 / 64, 1 / 128, 1 / 256] if steps is None else steps, "steps")
    if pts.ndim != 2 or pts.shape[1] != len(state):
        raise InputError(f"points must be finite, of shape (n, {len(state)}), got {pts.shape}")
    if hs.ndim != 1 or len(hs) < 3 or np.any(hs <= 0):
        raise InputError("steps must be at least 3 positive finite numbers")
    given = numeric_values(values, (*state, h))
    free = set().union(*(e.free_symbols for e in step.step)) | set().union(
        *(e.free_symbols for t in flow.terms[: max(orders) + 1] for e in t)
    )
    by_name = {s.name: v for s, v in given.items()}
    constants = free - set(state) - {h}
    missing = sorted(s.name for s in constants if s.name not in by_name)
    if missing:
        raise InputError(f"give values= for {', '.join(missing)}")
    sub = {s: by_name[s.name] for s in constants}
    args = (*state, h)
    stepper = sp.lambdify(args, [e.xreplace(sub) for e in step.step], "mpmath", cse=True)
    errors: dict[int, np.ndarray] = {}
    with mpmath.workdps(digits):
        for p in orders:
            field = [e.xreplace(sub) for e in flow.vector_field(p)]
            rhs = sp.lambdify(args, field, "mpmath", cse=True)
            out = np.empty((len(hs), len(pts)))
            for i, hv in enumerate(hs):
                hm = mpmath.mpf(float(hv))
                for k, y0 in enumerate(pts):
                    y = [mpmath.mpf(float(c)) for c in y0]
                    exact = mpmath.odefun(lambda t, z, f=rhs, hm=hm: f(*z, hm), 0, y)(hm)
                    moved = stepper(*y, hm)
                    gap = [u - w for u, w in zip(exact, moved, strict=True)]
                    out[i, k] = float(mpmath.sqrt(sum(g**2 for g in gap)))
            errors[p] = out
    floor = 10.0 ** (-digits) * max(1.0, float(np.abs(pts).max()))
    fits = {p: fit_slope(hs, errors[p].max(axis=1), floor) for p in orders}
    return LocalVerification(orders, hs, pts, digits, errors, fits)
