"""Batched iteration of a one-step map over a grid of step sizes × starting points."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["IterationResult", "iterate", "iterate_memory", "newton_step"]


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
    stop: Callable[[np.ndarray], np.ndarray] | None = None,
    check_every: int = 200,
) -> IterationResult:
    """Iterate a compiled one-step map for every (step size, starting point) pair at once.

    Step sizes that have taken their steps leave the batch, so the rest keep stepping on a smaller
    array; the loop runs over steps only, never over trajectories.

    Parameters
    ----------
    step : callable
        ``step(Y, h)`` with ``Y`` of shape (k, n_points, d) and ``h`` of shape (k, 1), for any
        subset of k step sizes.
    y0 : array_like, shape (n_points, d), (d,) or (n_h, n_points, d)
        Starting points (the last form: different ones for each step size).
    steps : array_like, shape (n_h,)
        Step sizes (> 0).
    n_steps : int or array_like of int, shape (n_h,)
        How many steps to take at each step size (at most, with ``stop``).
    blowup : float
        A run whose state exceeds ``blowup * (1 + max |y0|)`` counts as diverged.
    record : bool
        Keep the whole trajectory (not with ``stop``).
    stop : callable, optional
        ``stop(Y)`` → bool array of shape (k, n_points): runs that are done (converged). Checked
        every ``check_every`` steps; a step size whose runs are all done or diverged stops early,
        and ``n_steps`` in the result holds the steps it took.
    check_every : int
        How often ``stop`` is evaluated.

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

    Stopping once abs(t) < 1e-6 (checked every 10 steps):

    >>> res = iterate(lambda Y, h: Y - h[..., None] * Y, [[1.0]], [0.5, 0.1], 1000,
    ...               stop=lambda Y: np.abs(Y[..., 0]) < 1e-6, check_every=10)
    >>> res.n_steps.tolist()
    [20, 140]
    """
    y0 = np.atleast_2d(np.asarray(y0, dtype=float))
    steps = np.asarray(steps, dtype=float).ravel()
    if steps.size == 0 or np.any(~np.isfinite(steps)) or np.any(steps <= 0):
        raise InputError("step sizes must be finite and > 0")
    per_step = y0.ndim == 3  # one set of starting points per step size
    if per_step and y0.shape[0] != steps.size:
        raise InputError("starting points of shape (n_h, n_points, d) need n_h step sizes")
    if not np.all(np.isfinite(y0)):
        raise InputError("starting points must be finite")
    n_steps = np.broadcast_to(np.asarray(n_steps), steps.shape).astype(int).copy()
    if np.any(n_steps < 0):
        raise InputError("numbers of steps must be >= 0")
    if stop is not None and record:
        raise InputError("record=True cannot be combined with stop")
    if check_every < 1:
        raise InputError("check_every must be >= 1")
    n_h, (n_pts, d) = steps.size, y0.shape[-2:]
    bound = blowup * (1.0 + np.max(np.abs(y0)))
    out = np.broadcast_to(y0, (n_h, n_pts, d)).copy()  # rows done so far hold their end state
    diverged_at = np.full((n_h, n_pts), -1, dtype=int)
    top = int(n_steps.max())
    traj = np.full((top + 1, n_h, n_pts, d), np.nan) if record else None
    if record:
        traj[0] = out
    # the working set: rows (step sizes) still stepping, in a compact array
    rows = np.flatnonzero(n_steps > 0)
    Y, H = out[rows].copy(), steps[rows, None]
    alive = np.ones((rows.size, n_pts), dtype=bool)
    clean = True  # no run in the working set has diverged yet
    n = 0
    while rows.size:
        n += 1
        with np.errstate(all="ignore"):
            new = step(Y, H)
            peak = np.max(np.abs(new))
        if clean and peak <= bound:  # fast path (a NaN fails the test)
            Y = new
        else:
            bad = ~np.all(np.isfinite(new), axis=-1) | (np.max(np.abs(new), axis=-1) > bound)
            newly = bad & alive
            if newly.any():
                sub = diverged_at[rows]
                sub[newly] = n
                diverged_at[rows] = sub
                alive &= ~newly
                clean = False
            Y = np.where(alive[..., None], new, Y)
        if record:
            traj[n, rows] = np.where(alive[..., None], Y, np.nan)
        done = n_steps[rows] == n
        if stop is not None and n % check_every == 0:
            with np.errstate(all="ignore"):
                early = np.all(np.asarray(stop(Y), dtype=bool) | ~alive, axis=1) & ~done
            n_steps[rows[early]] = n
            done |= early
        if done.any():
            out[rows[done]] = Y[done]
            keep = ~done
            rows, Y, H, alive = rows[keep], Y[keep], H[keep], alive[keep]
            clean = bool(alive.all())
    diverged = diverged_at >= 0
    out[diverged] = np.nan
    return IterationResult(out, diverged, diverged_at, steps, n_steps, traj)


def iterate_memory(
    step: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    y0: np.ndarray,
    y_prev: np.ndarray,
    steps: np.ndarray,
    n_steps: np.ndarray,
    *,
    blowup: float = 1e8,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate a two-step method θ_{n+1} = Ψ_h(θ_n, θ_{n−1}) for many runs at once.

    Parameters
    ----------
    step : callable
        ``step(Y, Yprev, h)`` on arrays of shape (..., n_h, n_points, d), ``h`` of shape (n_h, 1).
    y0, y_prev : numpy.ndarray, shape (..., n_h, n_points, d)
        θ₀ and θ₋₁ for every run.
    steps : numpy.ndarray, shape (n_h,)
    n_steps : numpy.ndarray of int, shape (n_h,)
        Steps to take at each step size.
    blowup : float
        Runs exceeding ``blowup * (1 + max |y0|)`` count as diverged.

    Returns
    -------
    (states, diverged)
        End states (NaN where diverged) and the diverged mask, shape (..., n_h, n_points).

    Examples
    --------
    Heavy ball with β = 0 is gradient descent; on t²/2 it is t ← (1 − h)t:

    >>> import numpy as np
    >>> psi = lambda Y, P, h: Y - h[..., None] * Y
    >>> y0 = np.ones((2, 1, 1))
    >>> out, bad = iterate_memory(psi, y0, y0, np.array([0.5, 0.1]), np.array([3, 2]))
    >>> out[:, 0, 0].tolist(), bad.any()
    ([0.125, 0.81], np.False_)
    """
    steps = np.asarray(steps, dtype=float)
    n_steps = np.asarray(n_steps, dtype=int)
    if np.any(steps <= 0) or np.any(n_steps < 0):
        raise InputError("step sizes must be > 0 and numbers of steps >= 0")
    Y, P = np.array(y0, dtype=float), np.array(y_prev, dtype=float)
    H = steps[:, None]
    bound = blowup * (1.0 + np.nanmax(np.abs(Y)))
    out = Y.copy()
    bad = np.zeros(Y.shape[:-1], dtype=bool)
    for n in range(1, int(n_steps.max(initial=0)) + 1):
        with np.errstate(all="ignore"):
            new = step(Y, P, H)
        active = (n <= n_steps)[:, None]  # (n_h, 1) broadcasts over leading axes and points
        moving = active & ~bad
        bad |= active & (~np.all(np.isfinite(new), axis=-1) | (np.max(np.abs(new), -1) > bound))
        moving &= ~bad
        Y, P = np.where(moving[..., None], new, Y), np.where(moving[..., None], Y, P)
        done = (n_steps == n)[:, None] & np.ones(Y.shape[:-1], dtype=bool)
        out = np.where(done[..., None], Y, out)
    out[bad] = np.nan
    return out, bad


def newton_step(
    residual: Callable[[np.ndarray, np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray],
    guess: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    tol: float = 1e-14,
    max_iter: int = 50,
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """An implicit step Y ↦ Y' with G(Y, Y') = 0, solved by batched Newton iterations.

    Parameters
    ----------
    residual, jacobian : callable
        ``residual(Z, h)`` and ``jacobian(Z, h)`` (∂G/∂Y', shape (..., d, d)) with
        ``Z = concat(Y, Y')`` on the last axis.
    guess : callable
        ``guess(Y, h)``: the starting value (e.g. an explicit step).
    tol, max_iter : float, int
        Stop when every update is below ``tol`` (relative); runs that do not converge become NaN.

    Returns
    -------
    callable
        ``step(Y, h)`` usable by :func:`iterate`.

    Examples
    --------
    Implicit Euler on y′ = −y: y' = y/(1 + h).

    >>> import numpy as np
    >>> G = lambda Z, h: Z[..., 1:] - Z[..., :1] + h[..., None] * Z[..., 1:]
    >>> J = lambda Z, h: (1 + h)[..., None, None] * np.ones(Z.shape[:-1] + (1, 1))
    >>> step = newton_step(G, J, lambda Y, h: Y)
    >>> float(step(np.array([[1.0]]), np.array([0.5]))[0, 0])
    0.6666666666666666
    """

    def step(Y: np.ndarray, h: np.ndarray) -> np.ndarray:
        new = guess(Y, h)
        for _ in range(max_iter):
            Z = np.concatenate([Y, new], axis=-1)
            delta = np.linalg.solve(jacobian(Z, h), residual(Z, h)[..., None])[..., 0]
            new = new - delta
            if np.all(np.abs(delta) <= tol * (1.0 + np.abs(new))):
                return new
        bad = ~np.all(np.abs(delta) <= 1e3 * tol * (1.0 + np.abs(new)), axis=-1)
        return np.where(bad[..., None], np.nan, new)

    return step
