"""Accurate batched reference integration of modified flows (one stacked DOP853 system).

All truncation orders × step sizes × starting points are integrated together as one ODE system,
either over one step (time h, in the rescaled time s = t/h so that every row ends at s = 1) or to a
common horizon T. The integrator's own error is estimated by a second, looser solve; it is reported
with the result so that errors it cannot resolve are never mistaken for measurements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ..errors import BeaError, InputError

__all__ = ["ReferenceResult", "integrate_flows"]


@dataclass(frozen=True)
class ReferenceResult:
    """End states of the reference flows and a bound on their error.

    Attributes
    ----------
    states : numpy.ndarray, shape (P, n_h, n_points, d)
    error : numpy.ndarray, shape (P, n_h, n_points)
        Estimated error of ``states`` (norm over d), from a second solve with 100x looser tolerances
        (an upper bound: it is the looser solve's error).
    path : numpy.ndarray or None
        With ``times``: the states at those times, shape (n_times, P, n_h, n_points, d).
    """

    states: np.ndarray
    error: np.ndarray
    path: np.ndarray | None = None


def _solve(rhs, y0, t_end, rtol, atol, method="DOP853", times=None) -> np.ndarray:
    sol = solve_ivp(
        rhs, (0.0, t_end), y0.ravel(), method=method, rtol=rtol, atol=atol, t_eval=times
    )
    if not sol.success:
        raise BeaError(
            f"the reference integration of the modified flows failed ({sol.message}); a flow "
            "probably blows up: use smaller step sizes or a shorter horizon"
        )
    if times is not None:
        return np.moveaxis(sol.y, -1, 0).reshape(len(times), *y0.shape)
    return sol.y[:, -1].reshape(y0.shape)


def integrate_flows(
    field: Callable[[np.ndarray, np.ndarray], np.ndarray],
    y0: np.ndarray,
    steps: np.ndarray,
    n_orders: int,
    horizon: float | None = None,
    *,
    times: np.ndarray | None = None,
    method: str = "DOP853",
    rtol: float = 1e-13,
    atol: float = 1e-16,
) -> ReferenceResult:
    """Integrate truncated modified flows for every (order, step size, point) at once.

    Parameters
    ----------
    field : callable
        ``field(Y, h)`` from :func:`bea.numeric.compile_flow`: ``Y`` of shape
        (P, n_h, n_points, d), ``h`` of shape (n_h, 1).
    y0 : array_like, shape (n_points, d)
        Starting points.
    steps : array_like, shape (n_h,)
        Step sizes (they also parametrize the modified fields).
    n_orders : int
        P, the number of truncation orders ``field`` evaluates.
    horizon : float, optional
        Integrate to this common time; default: to time h (one step) for each step size.
    times : array_like, optional
        Also return the states at these times (increasing, within [0, horizon]; needs
        ``horizon``), for drawing whole flow lines.
    method : str
        A :func:`scipy.integrate.solve_ivp` method: the explicit default ``"DOP853"``, or
        ``"LSODA"``/``"Radau"`` for stiff flows such as strongly regularized ones.
    rtol, atol : float
        Tolerances of the accurate solve.

    Returns
    -------
    ReferenceResult

    Examples
    --------
    The gradient flow of t²/2 over one step is exactly e^{-h}:

    >>> import numpy as np
    >>> ref = integrate_flows(lambda Y, h: -Y, np.array([[1.0]]), np.array([0.1, 0.2]), 1)
    >>> np.allclose(ref.states[0, :, 0, 0], np.exp(-np.array([0.1, 0.2])), rtol=1e-14, atol=0)
    True
    >>> path = integrate_flows(lambda Y, h: -Y, [[1.0]], [0.1], 1, 2.0, times=[0, 1, 2]).path
    >>> np.allclose(path[:, 0, 0, 0, 0], np.exp(-np.arange(3.0)), rtol=1e-12)
    True
    """
    y0 = np.atleast_2d(np.asarray(y0, dtype=float))
    steps = np.asarray(steps, dtype=float).ravel()
    if times is not None:
        times = np.asarray(times, dtype=float).ravel()
        if horizon is None or np.any(np.diff(times) <= 0) or times[0] < 0 or times[-1] > horizon:
            raise InputError("times must increase within [0, horizon] (and need a horizon)")
    H = steps[:, None]
    shape = (n_orders, steps.size, *y0.shape)
    Y0 = np.broadcast_to(y0, shape).copy()
    if horizon is None:  # one step, rescaled time s in [0, 1]: dY/ds = h F(Y, h)
        hs = H[None, :, :, None]

        def rhs(_s, flat):
            return (hs * field(flat.reshape(shape), H)).ravel()

        t_end = 1.0
    else:

        def rhs(_t, flat):
            return field(flat.reshape(shape), H).ravel()

        t_end = float(horizon)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            if times is None:
                path, tight = None, _solve(rhs, Y0, t_end, rtol, atol, method)
            else:  # one solve gives the path and the end state
                grid = times if times[-1] == t_end else np.append(times, t_end)
                full = _solve(rhs, Y0, t_end, rtol, atol, method, grid)
                path, tight = full[: times.size], full[-1]
            loose = _solve(rhs, Y0, t_end, rtol * 1e2, atol * 1e2, method)
        except FloatingPointError:
            raise BeaError(
                "a modified flow blew up during the reference integration; use smaller step "
                "sizes or a shorter horizon"
            ) from None
    error = np.linalg.norm(tight - loose, axis=-1)
    return ReferenceResult(tight, error, path)
