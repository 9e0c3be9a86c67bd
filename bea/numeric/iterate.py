"""Batched iteration of a one-step map over a grid of step sizes × starting points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["IterationResult", "iterate"]


@dataclass(frozen=True)
class IterationResult:
    """End states of a batched iteration.

    Attributes
    ----------
    states : numpy.ndarray, shape (n_h, n_points, d)
        The state after ``n_steps[i]`` steps of size ``steps[i]``; NaN exactly where ``diverged``.
    diverged : numpy.ndarray of bool, shape (n_h, n_points)
        Runs that became non-finite or exceeded the blow-up bound.
    diverged_at : numpy.ndarray of int, shape (n_h, n_points)
        The step at which each diverged run was stopped (-1 where it did not diverge).
    steps : numpy.ndarray, shape (n_h,)
        Step sizes.
    n_steps : numpy.ndarray of int, shape (n_h,)
        Number of steps taken at each step size.
    trajectory : numpy.ndarray or None
        With ``record=True``: shape (max(n_steps) + 1, n_h, n_points, d), NaN after divergence.
    """

    states: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    steps: np.ndarray
    n_steps: np.ndarray
    trajectory: np.ndarray | None = None

    @property
    def n_diverged(self) -> int:
        """Number of diverged runs."""
        return int(self.diverged.sum())


def iterate(
    step: Callable[[np.ndarray, np.ndarray], np.ndarray],
    y0: np.ndarray,
    steps: np.ndarray,
    n_steps: int | np.ndarray,
    *,
    blowup: float = 1e8,
    record: bool = False,
) -> IterationResult:
    """Iterate a compiled one-step map for every (step size, starting point) pair at once.

    Parameters
    ----------
    step : callable
        ``step(Y, h)`` with ``Y`` of shape (n_h, n_points, d) and ``h`` of shape (n_h, 1).
    y0 : array_like, shape (n_points, d) or (d,)
        Starting points.
    steps : array_like, shape (n_h,)
        Step sizes (> 0).
    n_steps : int or array_like of int, shape (n_h,)
        How many steps to take at each step size.
    blowup : float
        A run whose state exceeds ``blowup * (1 + max |y0|)`` counts as diverged.
    record : bool
        Keep the whole trajectory.

    Returns
    -------
    IterationResult

    Examples
    --------
    Gradient descent on t²/2 is t ← (1 − h)t; with h = 2.5 it diverges:

    >>> import numpy as np
    >>> res = iterate(lambda Y, h: Y - h[..., None] * Y, [[1.0]], [0.5, 2.5], 80)
    >>> float(res.states[0, 0, 0]) == 0.5**80, bool(res.diverged[1, 0]), res.n_diverged
    (True, True, 1)
    """
    y0 = np.atleast_2d(np.asarray(y0, dtype=float))
    steps = np.asarray(steps, dtype=float).ravel()
    if steps.size == 0 or np.any(~np.isfinite(steps)) or np.any(steps <= 0):
        raise InputError("step sizes must be finite and > 0")
    if not np.all(np.isfinite(y0)):
        raise InputError("starting points must be finite")
    n_steps = np.broadcast_to(np.asarray(n_steps), steps.shape).astype(int)
    if np.any(n_steps < 0):
        raise InputError("numbers of steps must be >= 0")
    n_h, (n_pts, d) = steps.size, y0.shape
    bound = blowup * (1.0 + np.max(np.abs(y0)))
    Y = np.broadcast_to(y0, (n_h, n_pts, d)).copy()
    H = steps[:, None]
    alive = np.ones((n_h, n_pts), dtype=bool)
    diverged_at = np.full((n_h, n_pts), -1, dtype=int)
    out = np.full_like(Y, np.nan)
    done0 = n_steps == 0
    out[done0] = Y[done0]
    top = int(n_steps.max())
    traj = np.full((top + 1, n_h, n_pts, d), np.nan) if record else None
    if record:
        traj[0] = Y
    finishing = {int(n): n_steps == n for n in np.unique(n_steps) if n > 0}
    shortest = int(n_steps.min())
    clean = True  # no run has diverged yet
    for n in range(1, top + 1):
        with np.errstate(all="ignore"):
            new = step(Y, H)
            peak = np.max(np.abs(new))
        if clean and n <= shortest and peak <= bound:  # fast path (NaN fails the test)
            Y = new
            if record:
                traj[n] = Y
        else:
            active = n <= n_steps  # rows still stepping
            bad = ~np.all(np.isfinite(new), axis=-1) | (np.max(np.abs(new), axis=-1) > bound)
            newly = bad & alive & active[:, None]
            if newly.any():
                diverged_at[newly] = n
                alive &= ~newly
                clean = False
            moving = alive[..., None] & active[:, None, None]
            Y = np.where(moving, new, Y)
            if record:
                traj[n] = np.where(moving, Y, np.nan)
        if n in finishing:
            out[finishing[n]] = Y[finishing[n]]
    diverged = diverged_at >= 0
    out[diverged] = np.nan
    return IterationResult(out, diverged, diverged_at, steps, n_steps, traj)
