"""Log-log slope fits over the asymptotic range of an error-versus-step-size curve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io import jsonable

__all__ = ["SlopeFit", "fit_slope"]


@dataclass(frozen=True)
class SlopeFit:
    """A fitted convergence order: log10 e ≈ slope · log10 h + intercept over the used step sizes.

    Attributes
    ----------
    slope, intercept : float
        The least-squares line in log10–log10 coordinates (NaN if fewer than 3 usable points).
    r2 : float
        Coefficient of determination of that line.
    used : numpy.ndarray of bool
        Which step sizes entered the fit.
    dropped : dict
        ``{step size: reason}`` for the others (``"diverged"``, ``"at the floor"``,
        ``"outside the asymptotic range"``).
    """

    slope: float
    intercept: float
    r2: float
    used: np.ndarray
    dropped: dict

    def to_dict(self) -> dict:
        """Plain-JSON view."""
        return jsonable(
            {
                "slope": self.slope,
                "intercept": self.intercept,
                "r2": self.r2,
                "used": self.used,
                "dropped": {f"{h:.6g}": why for h, why in self.dropped.items()},
            }
        )


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    A = np.vstack([x, np.ones_like(x)]).T
    (slope, icpt), *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - (slope * x + icpt)
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else 1.0
    return float(slope), float(icpt), r2, float(np.max(np.abs(resid)))


def fit_slope(
    steps: np.ndarray,
    errors: np.ndarray,
    floor: np.ndarray | float = 0.0,
    *,
    tolerance: float = 0.02,
    min_points: int = 3,
) -> SlopeFit:
    """Fit the convergence order of ``errors`` against ``steps`` over the asymptotic range.

    Points that are not finite (diverged runs) or not clearly above ``floor`` (reference or float64
    resolution) are dropped. Among the remaining points, the fit uses the longest run of
    consecutive step sizes on which the log–log data are a straight line to within ``tolerance``
    decades; ties go to the run of smaller step sizes (closest to the h → 0 limit).

    Parameters
    ----------
    steps, errors : array_like, shape (n,)
        Step sizes and errors.
    floor : float or array_like
        Errors below ``10 * floor`` are treated as unresolved.
    tolerance : float
        Largest allowed residual of the straight line, in decades (0.02 ≈ 5 %).
    min_points : int
        Fewest points a fit may use.

    Returns
    -------
    SlopeFit

    Examples
    --------
    >>> import numpy as np
    >>> h = np.geomspace(1e-3, 1e-1, 9)
    >>> e = 3 * h**2 * (1 + 2 * h)          # second order, pre-asymptotic at large h
    >>> fit = fit_slope(h, e)
    >>> round(fit.slope, 1), int(fit.used.sum()) < 9
    (2.0, True)
    """
    steps = np.asarray(steps, dtype=float)
    errors = np.asarray(errors, dtype=float)
    floor = np.broadcast_to(np.asarray(floor, dtype=float), errors.shape)
    order = np.argsort(steps)
    dropped: dict = {}
    ok = np.zeros(len(steps), dtype=bool)
    for i in order:
        if not np.isfinite(errors[i]):
            dropped[steps[i]] = "diverged"
        elif errors[i] <= 10 * floor[i] or errors[i] <= 0:
            dropped[steps[i]] = "at the floor"
        else:
            ok[i] = True
    idx = [i for i in order if ok[i]]
    x = np.log10(steps)
    y = np.log10(np.where(errors > 0, errors, np.nan))
    best = None
    for start in range(len(idx)):
        for stop in range(start + min_points, len(idx) + 1):
            sel = idx[start:stop]
            *_, worst = _line(x[sel], y[sel])
            if worst <= tolerance and (best is None or len(sel) > len(best)):
                best = sel
    used = np.zeros(len(steps), dtype=bool)
    if best is None:
        for i in idx:
            dropped[steps[i]] = "outside the asymptotic range"
        return SlopeFit(np.nan, np.nan, np.nan, used, dropped)
    used[best] = True
    for i in idx:
        if not used[i]:
            dropped[steps[i]] = "outside the asymptotic range"
    slope, icpt, r2, _ = _line(x[best], y[best])
    return SlopeFit(slope, icpt, r2, used, dropped)
