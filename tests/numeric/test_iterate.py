"""Batched iteration: exact on linear maps, per-row step counts, divergence detected and reported."""

from __future__ import annotations

import numpy as np
import pytest

import bea
from bea.numeric import iterate


def gd_quadratic(Y, H):
    return Y - H[..., None] * Y * np.array([1.0, 3.0])


def test_gradient_descent_on_a_quadratic_is_exact_power():
    y0 = np.array([[1.0, 2.0], [-0.5, 0.25]])
    hs = np.array([0.01, 0.1, 0.2])
    counts = np.array([7, 3, 11])
    res = iterate(gd_quadratic, y0, hs, counts)
    want = y0[None] * (1 - hs[:, None, None] * np.array([1.0, 3.0])) ** counts[:, None, None]
    np.testing.assert_allclose(res.states, want, rtol=1e-14)
    assert not res.diverged.any() and res.n_diverged == 0


def test_divergence_is_detected_masked_and_reported():
    res = iterate(gd_quadratic, [[1.0, 1.0]], [0.1, 0.9], 200)  # 0.9 * 3 > 2: unstable
    assert res.diverged.tolist() == [[False], [True]]
    assert np.isnan(res.states[1]).all() and np.isfinite(res.states[0]).all()
    assert res.diverged_at[1, 0] > 0 and res.diverged_at[0, 0] == -1


def test_record_keeps_the_trajectory():
    res = iterate(gd_quadratic, [[1.0, 1.0]], [0.1], 5, record=True)
    assert res.trajectory.shape == (6, 1, 1, 2)
    np.testing.assert_allclose(res.trajectory[5], res.states)


@pytest.mark.parametrize("steps", [[0.0], [-0.1], [np.nan], []])
def test_bad_step_sizes(steps):
    with pytest.raises(bea.InputError, match="> 0"):
        iterate(gd_quadratic, [[1.0, 1.0]], steps, 3)
