"""The stacked reference integrator matches closed forms and single-trajectory solves."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from bea.numeric import integrate_flows


def rotation_field(Y, H):
    # two "orders": a nonlinear field whose second copy depends on h
    a, b = Y[..., 0], Y[..., 1]
    base = np.stack([-b + a * b**2 - a**3, a + np.sin(b) * a], axis=-1)
    out = base.copy()
    out[1] = base[1] + H[..., None] * base[1] ** 2
    return out


def test_linear_flow_closed_form_one_step_and_horizon():
    hs = np.array([0.05, 0.1, 0.4])
    y0 = np.array([[1.0], [2.0]])
    ref = integrate_flows(lambda Y, H: -3 * Y, y0, hs, 1)
    np.testing.assert_allclose(
        ref.states[0, :, :, 0], y0[:, 0] * np.exp(-3 * hs)[:, None], rtol=1e-13
    )
    ref = integrate_flows(lambda Y, H: -3 * Y * (1 + H[..., None]), y0, hs, 1, horizon=2.0)
    want = y0[:, 0] * np.exp(-3 * (1 + hs) * 2.0)[:, None]
    np.testing.assert_allclose(ref.states[0, :, :, 0], want, rtol=1e-12)


def test_batched_matches_single_trajectory_reference():
    rng = np.random.default_rng(1)
    y0 = rng.uniform(-1, 1, size=(5, 2))
    hs = np.array([0.02, 0.1, 0.3])
    batched = integrate_flows(rotation_field, y0, hs, 2, horizon=1.5)
    for slot in range(2):
        for i, hv in enumerate(hs):
            for k in range(5):

                def rhs(_t, y, slot=slot, hv=hv):
                    Y = np.broadcast_to(y, (2, 1, 1, 2))
                    return rotation_field(Y, np.array([[hv]]))[slot, 0, 0]

                sol = solve_ivp(rhs, (0, 1.5), y0[k], method="DOP853", rtol=1e-13, atol=1e-15)
                np.testing.assert_allclose(batched.states[slot, i, k], sol.y[:, -1], atol=1e-11)
    assert batched.error.max() < 1e-9
