"""The figure data of the two-parameter study, checked against independent computations:
the generic GD step map, scipy's solve_ivp on the closed-form modified loss and regularized loss,
finite differences of the derived order-2 field."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

import bea
from bea.models import TwoParameter
from bea.numeric import compile_expressions, compile_step, iterate
from bea.optim import GD
from bea.study import experiments as study

M = TwoParameter()
QUICK = study.Settings(quick=True)
a, b, h, mu = sp.symbols("a b h mu")


def _flow_of(loss_expr, extra):
    """solve_ivp right-hand side of the gradient flow of a closed-form loss (one trajectory)."""
    grad = sp.lambdify((a, b, extra), [-sp.diff(loss_expr, v) for v in (a, b)])
    return lambda value: lambda t, y: grad(y[0], y[1], value)


@pytest.fixture(scope="module")
def sweep():
    return study.learning_rate_sweep(M, M.start, QUICK)


def test_sweep_gd_limits_match_the_generic_gd_step_map(sweep):
    phi = compile_step(GD().step_map(M.loss, M.params, h))
    pick = np.array([0, 3])
    steps = sweep.steps[pick]
    res = iterate(phi, np.array(M.start), steps, np.ceil(QUICK.horizon(False) / steps).astype(int))
    np.testing.assert_allclose(res.states[:, 0], sweep.gd_end[pick], atol=1e-12)
    assert sweep.status[pick].tolist() == ["converged", "converged"]


def test_sweep_order1_prediction_is_the_flow_of_the_closed_form_modified_loss(sweep):
    rhs = _flow_of(M.symbolic_modified_loss(h).subs(M.values), h)
    for i in (0, 2):
        sol = solve_ivp(
            rhs(sweep.steps[i]),
            (0, QUICK.horizon(False)),
            M.start,
            method="LSODA",
            rtol=1e-11,
            atol=1e-13,
        )
        np.testing.assert_allclose(sol.y[:, -1], sweep.flow_end[0, i], atol=1e-7)


def test_sweep_has_no_predictions_above_the_stability_limit(sweep):
    above = sweep.steps > sweep.stability_limit
    assert above.any() and np.isnan(sweep.flow_end[:, above]).all()
    assert np.isfinite(sweep.flow_end[:, ~above]).all()


def test_sweep_gd_flattens_with_h_and_higher_orders_predict_it_better(sweep):
    stable = (sweep.steps <= sweep.stability_limit) & (sweep.status == "converged")
    sharp = M.sharpness(sweep.gd_end[stable])
    assert np.all(np.diff(sharp) < 0) and sharp[0] < M.sharpness(sweep.gradient_flow_end)
    err = [abs(M.sharpness(sweep.gradient_flow_end) - sharp[0])]
    err += [abs(M.sharpness(sweep.flow_end[k, 0]) - sharp[0]) for k in range(3)]
    assert np.all(np.diff(err) < 0)


def test_explicit_regularization_matches_solve_ivp_on_the_closed_form_loss():
    reg = study.explicit_regularization(M, M.start, QUICK)
    x = sp.Symbol("x")
    total = (M.symbolic_loss * (1 + mu * x**2 * (a**2 + b**2))).subs(M.values)  # closed form
    assert sp.expand(total - (M.loss + mu * bea.igr(M.loss, M.params).R)) == 0
    rhs = _flow_of(total, mu)
    for i in (0, len(reg.mus) - 1):
        sol = solve_ivp(
            rhs(reg.mus[i]),
            (0, 5 * QUICK.horizon(False)),
            M.start,
            method="Radau",
            rtol=1e-10,
            atol=1e-12,
        )
        np.testing.assert_allclose(sol.y[:, -1], reg.end[i], atol=1e-6)
    assert reg.implicit_max == pytest.approx(float(M.stability_limit(np.array(M.start))) / 2)


def test_trajectories_gd_paths_and_order1_flow_are_right():
    p = study.trajectories(M, M.start, (0.01, 0.04), QUICK)
    phi = compile_step(GD().step_map(M.loss, M.params, h))
    res = iterate(phi, np.array(M.start), [0.04], 50, record=True)
    np.testing.assert_allclose(p.gd[1][:51], res.trajectory[:, 0, 0], atol=1e-13)
    assert p.gd_index[1][:51].tolist() == list(range(51))
    rhs = _flow_of(M.symbolic_modified_loss(h).subs(M.values), h)(0.04)
    k = len(p.times) // 2
    sol = solve_ivp(rhs, (0, p.times[k]), M.start, method="LSODA", rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(sol.y[:, -1], p.modified_flow[0, k], atol=1e-7)
    np.testing.assert_allclose(p.gradient_flow[-1], M.gradient_flow_limit(M.start), atol=1e-8)


def test_trajectories_refuse_unstable_step_sizes():
    with pytest.raises(bea.InputError, match="stability limit"):
        study.trajectories(M, M.start, (0.01, 0.5), QUICK)


def test_rig_ratio_is_rig_over_loss_from_the_generic_igr():
    r = study.rig_along_path(M, M.start, [0.02, 0.05], QUICK)
    R = compile_expressions([bea.igr(M.loss, M.params).R, M.loss], M.params)
    phi = compile_step(GD().step_map(M.loss, M.params, h))
    res = iterate(phi, np.array(M.start), [0.05], 30, record=True)
    vals = R(res.trajectory[:, 0, 0])
    np.testing.assert_allclose(r.ratio[1][:31], vals[:, 0] / vals[:, 1], rtol=1e-10)
    assert all(E.min() >= r.floor for E in r.loss)


def test_curl_matches_finite_differences_of_the_derived_order2_field():
    c = study.curl_order2(M, QUICK)
    flow = bea.modified_flow(M.loss, M.params, order=2)
    f2 = compile_expressions(list(flow.terms[2]), M.params)
    eps = 1e-5
    for i, j in [(5, 30), (12, 7), (33, 21)]:
        p = np.array([c.a[i], c.b[j]])
        dfb_da = (f2(p + [eps, 0])[1] - f2(p - [eps, 0])[1]) / (2 * eps)
        dfa_db = (f2(p + [0, eps])[0] - f2(p - [0, eps])[0]) / (2 * eps)
        assert c.curl[j, i] == pytest.approx(dfb_da - dfa_db, rel=1e-6, abs=1e-6)


def test_to_dict_is_json_ready_with_none_for_missing_values(sweep):
    import json

    data = sweep.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert "null" in text  # predictions above the stability limit
    assert data["status"][0] == "converged"
