"""The two-parameter model's exact facts (Barrett & Dherin 2021, Section 4), each checked against
bea's generic engine and numeric back-end rather than trusted."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
from bea.errors import InputError
from bea.models import TwoParameter
from bea.numeric import (
    compile_expressions,
    compile_flow,
    compile_loss,
    compile_step,
    integrate_flows,
    iterate,
)
from bea.optim import GD

a, b, x, y, h = sp.symbols("a b x y h")
MODELS = [TwoParameter(), TwoParameter(x=2, y=0.3), TwoParameter(x=-0.5, y=1.5)]
RNG = np.random.default_rng(7)
POINTS = RNG.uniform(-3, 3, size=(50, 2))


@pytest.mark.parametrize("m", MODELS, ids=str)
def test_vectorized_loss_gradient_hessian_match_the_compiled_sympy_loss(m):
    E, G, H = compile_loss(m.loss, m.params)
    np.testing.assert_allclose(m.loss_value(POINTS), E(POINTS), rtol=1e-13)
    np.testing.assert_allclose(m.gradient(POINTS), G(POINTS), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(m.hessian(POINTS), H(POINTS), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("m", MODELS, ids=str)
def test_gd_step_and_rig_match_the_generic_step_map_and_igr(m):
    phi = compile_step(GD().step_map(m.loss, m.params, h))
    steps = np.array([0.01, 0.1, 0.3])
    Y = np.broadcast_to(POINTS, (3, *POINTS.shape))
    np.testing.assert_allclose(
        m.gd_step(Y, steps[:, None]), phi(Y, steps[:, None]), rtol=1e-13, atol=1e-15
    )
    R = compile_expressions([bea.igr(m.loss, m.params).R], m.params)
    np.testing.assert_allclose(m.rig(POINTS), R(POINTS)[..., 0], rtol=1e-12)


def test_critical_set_is_the_valley_and_the_origin():
    grad = [sp.diff(TwoParameter().symbolic_loss, p) for p in (a, b)]
    sols = sp.solve(grad, [a, b], dict=True)
    assert len(sols) == 2 and {a: 0, b: 0} in sols
    (valley,) = [s for s in sols if s != {a: 0, b: 0}]
    assert sp.simplify((a * b).subs(valley) - y / x) == 0


@pytest.mark.parametrize("m", MODELS, ids=str)
def test_valley_points_are_minima_with_hessian_eigenvalues_zero_and_sharpness(m):
    aa = np.array([0.3, 0.8, 1.7, -2.2])
    pts = np.stack([aa, m.valley(aa)], -1)
    _, G, H = compile_loss(m.loss, m.params)
    assert np.abs(G(pts)).max() < 1e-14
    eig = np.linalg.eigvalsh(H(pts))
    np.testing.assert_allclose(eig[:, 0], 0, atol=1e-13)
    np.testing.assert_allclose(eig[:, 1], m.sharpness(pts), rtol=1e-13)


def test_flattest_minimum_is_sqrt_y_over_x_and_minimum_norm():
    m = TwoParameter(x=2, y=0.3)
    H = sp.hessian(m.loss, m.params)
    q = sp.Rational(3, 20)
    on_valley = sp.simplify(H.trace().subs(b, q / a))  # one eigenvalue is 0 on the valley
    crit = [s for s in sp.solve(sp.diff(on_valley, a), a) if s.is_positive]
    norm_crit = [s for s in sp.solve(sp.diff(a**2 + (q / a) ** 2, a), a) if s.is_positive]
    assert len(crit) == 1 and crit == norm_crit
    assert np.allclose(m.flat_minimum, [float(crit[0]), float(q / crit[0])], rtol=1e-15)


def test_gradient_flow_conserves_the_imbalance():
    E = TwoParameter().symbolic_loss
    flow = [-sp.diff(E, a), -sp.diff(E, b)]
    assert sp.expand(2 * a * flow[0] - 2 * b * flow[1]) == 0


@pytest.mark.parametrize("m", MODELS, ids=str)
def test_gradient_flow_limit_matches_integrated_gradient_flow(m):
    starts = np.array([[2.8, 3.5], [-1.0, 2.0], [0.5, -0.2], [3.0, 0.1], [-2.0, -2.5]])
    field = compile_flow(bea.modified_flow(m.loss, m.params, order=0))
    ref = integrate_flows(field, starts, np.array([0.1]), 1, horizon=60.0, rtol=1e-11)
    np.testing.assert_allclose(ref.states[0, 0], m.gradient_flow_limit(starts), atol=1e-8)


def test_one_gd_step_multiplies_the_imbalance_by_one_minus_h2_x2_r2():
    m = TwoParameter()
    step = GD().step_map(m.symbolic_loss, m.params, h).step
    ratio = (step[0] ** 2 - step[1] ** 2) / (a**2 - b**2)
    assert sp.simplify(ratio - m.symbolic_imbalance_factor(h)) == 0


def test_rig_is_x2_a2_plus_b2_times_e_and_modified_loss_is_e_times_one_plus_half_h_sharpness():
    m = TwoParameter()
    assert sp.expand(bea.igr(m.symbolic_loss, m.params).R - m.symbolic_rig()) == 0
    derived = bea.modified_loss(m.symbolic_loss, m.params, order=1)
    assert sp.expand(derived - m.symbolic_modified_loss(sp.Symbol("h"))) == 0


def test_stability_limit_separates_staying_from_drifting_to_a_flatter_minimum():
    # below 2/sharpness GD converges to the nearby minimum; above it that minimum is unstable and
    # GD leaves it, ending at a flatter minimum where 2/sharpness exceeds its step size
    m = TwoParameter()
    theta = np.array([1.5, m.valley(1.5)])
    limit = float(m.stability_limit(theta))
    assert limit == pytest.approx(2 / float(m.sharpness(theta)), rel=1e-13)
    phi = compile_step(GD().step_map(m.loss, m.params, h))
    start = theta + 1e-6 * np.array([1.0, 1.0])
    steps = np.array([0.95, 1.05]) * limit
    res = iterate(phi, start, steps, 4000)
    end = res.states[:, 0]
    assert not res.diverged.any() and np.abs(m.residual(end)).max() < 1e-12
    moved = np.linalg.norm(end - theta, axis=-1)
    assert moved[0] < 1e-5 < 1e-2 < moved[1]
    assert m.sharpness(end[1]) < 2 / steps[1] < m.sharpness(theta)


def test_bad_model_data_is_a_clear_error():
    with pytest.raises(InputError, match="x must be non-zero"):
        TwoParameter(x=0)
    with pytest.raises(InputError, match="finite number"):
        TwoParameter(y=float("nan"))
    with pytest.raises(InputError, match="y/x > 0"):
        _ = TwoParameter(y=-1).flat_minimum
    with pytest.raises(InputError, match="last axis"):
        TwoParameter().loss_value([1.0, 2.0, 3.0])
