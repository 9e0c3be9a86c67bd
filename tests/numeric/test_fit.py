"""Slope fits use the asymptotic range and say why each dropped step size was dropped."""

from __future__ import annotations

import numpy as np

from bea.numeric import fit_slope


def test_exact_power_law():
    h = np.geomspace(1e-3, 1e-1, 8)
    fit = fit_slope(h, 5 * h**3)
    assert abs(fit.slope - 3) < 1e-12 and fit.used.all() and fit.dropped == {}


def test_floor_pre_asymptotic_and_diverged_points_are_dropped_with_reasons():
    h = np.geomspace(1e-4, 1e-1, 13)
    e = 2 * h**4 * (1 + 30 * h)  # curvature at large h
    e = np.maximum(e, 1e-15)  # float64 floor at small h
    e[-1] = np.nan  # a diverged run
    fit = fit_slope(h, e, floor=1e-16)
    assert abs(fit.slope - 4) < 0.05
    reasons = set(fit.dropped.values())
    assert {"diverged", "at the floor", "outside the asymptotic range"} <= reasons
    assert fit.dropped[h[-1]] == "diverged" and fit.dropped[h[0]] == "at the floor"


def test_no_straight_run_gives_nan_not_a_number_pretending():
    h = np.geomspace(1e-3, 1e-1, 4)
    fit = fit_slope(h, np.array([1e-3, 1e-9, 1e-2, 1e-12]))
    assert np.isnan(fit.slope) and not fit.used.any()
