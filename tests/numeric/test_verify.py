"""Theorem 3.1 and its higher-order analogues, measured (Barrett & Dherin 2021)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

import bea
import bea.optim
from bea.cli import main
from bea.models import TwoParameter

ORDERS = (0, 1, 2, 3)


def assert_orders(result, tol=0.1):
    for p in result.orders:
        assert abs(result.local_slopes[p] - (p + 2)) <= tol, (p, result.local_slopes)
        assert abs(result.global_slopes[p] - (p + 1)) <= tol, (p, result.global_slopes)


def test_two_parameter_model_from_paper_start_slopes_2345_and_1234():
    m = TwoParameter()
    result = bea.verify(m.loss, m.params, m.start, orders=ORDERS)
    assert_orders(result)
    assert all(result.local_fits[p].r2 > 0.999 for p in ORDERS)


def test_three_parameter_polynomial_loss():
    result = bea.verify(
        "a**2*b**2/2 + (a - 1)**2 + (b + c)**2 + c**4/4",
        ["a", "b", "c"],
        [[0.7, -0.4, 1.1], [0.2, 0.5, -0.3]],
        orders=ORDERS,
    )
    assert_orders(result)


def test_non_polynomial_logistic_loss():
    result = bea.verify(
        "log(1 + exp(-a*x - b)) + c**2/2 + a**2*c/3",
        ["a", "b", "c"],
        [0.5, -0.3, 1.0],
        orders=ORDERS,
        values={"x": 2},
    )
    assert_orders(result)


def test_theorem_3_1_modified_flow_beats_gradient_flow_by_factor_growing_like_one_over_h():
    m = TwoParameter()
    result = bea.verify(m.loss, m.params, m.start, orders=(0, 1))
    ratio = result.worst("local", 0) / result.worst("local", 1)
    assert np.all(ratio > 1)
    slope = np.polyfit(np.log(result.steps), np.log(ratio), 1)[0]
    assert abs(slope + 1) < 0.05  # ratio ~ C / h
    assert ratio[0] > 10 * ratio[-1]  # over a factor 16 in h


def test_json_has_the_documented_keys_and_survives_a_round_trip():
    m = TwoParameter()
    data = json.loads(bea.verify(m.loss, m.params, m.start, orders=(0, 1)).to_json())
    for key in ("local_slopes", "global_slopes", "steps", "local_errors", "global_errors"):
        assert key in data
    assert set(data["local_slopes"]) == {"0", "1"}
    assert len(data["local_errors"]["1"]) == len(data["steps"])


def test_user_step_sizes_are_snapped_to_divide_the_horizon():
    m = TwoParameter()
    result = bea.verify(
        m.loss, m.params, m.start, orders=(0,), steps=[0.001, 0.002, 0.003, 0.004], horizon=0.5
    )
    counts = 0.5 / result.steps
    np.testing.assert_allclose(counts, np.round(counts), rtol=1e-12)


def test_divergent_runs_are_reported_not_hidden():
    # far beyond the stability limit h L < 2 (L ~ 29 at the start) GD diverges: h = 0.3
    m = TwoParameter()
    result = bea.verify(
        m.loss,
        m.params,
        m.start,
        orders=(0,),
        steps=[0.0005, 0.001, 0.002, 0.004, 0.3],
        horizon=3.0,
    )
    assert result.diverged.any()
    assert result.local_fits[0].dropped or result.global_fits[0].dropped
    assert "diverged" in str(result)
    assert np.isnan(result.global_errors[0][-1]).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(steps=[0.0, 0.1, 0.2]), "h > 0"),
        (dict(steps=[-1, 0.1, 0.2]), "h > 0"),
        (dict(orders=(-1,)), ">= 0"),
        (dict(orders=(1.5,)), "whole number"),
        (dict(orders=()), "at least one"),
        (dict(horizon=0), "horizon"),
        (dict(point=[1.0, 2.0, 3.0]), "coordinates"),
        (dict(point=[np.nan, 1.0]), "finite"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    m = TwoParameter()
    args = dict(point=m.start) | kwargs
    point = args.pop("point")
    with pytest.raises(bea.InputError, match=message):
        bea.verify(m.loss, m.params, point, **args)


def test_everything_diverging_is_an_error():
    m = TwoParameter()
    with pytest.raises(bea.BeaError, match="diverged for every"):
        bea.verify(m.loss, m.params, m.start, orders=(0,), steps=[0.3, 0.4, 0.5], horizon=6.0)


def test_cli_verify_model_json(capsys):
    assert main(["verify", "--model", "two-parameter", "--orders", "0", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert round(data["local_slopes"]["1"]) == 3 and round(data["global_slopes"]["0"]) == 1


def test_cli_verify_text_and_plot(tmp_path, capsys):
    png = tmp_path / "err.png"
    code = main(
        [
            "verify",
            "--loss",
            "cos(t)",
            "--params",
            "t",
            "--point",
            "1",
            "--orders",
            "0",
            "1",
            "--plot",
            str(png),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "local slope" in out and png.stat().st_size > 1000


def test_cli_verify_errors_are_one_line(capsys):
    assert main(["verify", "--loss", "a**2", "--params", "a"]) == 2
    assert main(["verify", "--loss", "a**2*x", "--params", "a", "--point", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "starting point" in err[0] and "x" in err[1]


def test_verify_flow_checks_orders_like_verify():
    m = TwoParameter()
    step = bea.optim.GD().step_map(m.loss, m.params, sp.Symbol("h"))
    flow = bea.modified_flow(m.loss, m.params, order=2)
    for bad in ((1.5,), (True,), (-1,)):
        with pytest.raises(bea.InputError, match="order"):
            bea.verify_flow(flow, step, m.start, orders=bad)


def test_a_map_that_is_not_gradient_descent_can_be_verified_with_verify_flow():
    t, h = sp.symbols("t h")
    from bea.step import StepMap

    # the second-order Taylor method for t' = -sin t (t'' = sin t cos t)
    step = StepMap(
        sp.Matrix([t - h * sp.sin(t) + h**2 * sp.sin(t) * sp.cos(t) / 2]), (t,), h, "taylor2"
    )
    flow = bea.modified_equation(step.step, step.state, h, 2)
    assert flow.terms[1] == sp.zeros(1, 1)
    res = bea.verify_flow(flow, step, [1.0], orders=(0, 1, 2), steps=np.geomspace(0.01, 0.1, 8))
    assert abs(res.local_slopes[0] - 3) < 0.1  # second-order method: f_1 = 0
    assert abs(res.local_slopes[1] - 3) < 0.1
    assert abs(res.local_slopes[2] - 4) < 0.1


def test_the_error_plot_labels_2_and_5_times_a_power_of_ten_on_a_narrow_step_range():
    import matplotlib

    matplotlib.use("Agg")
    t = sp.Symbol("t")
    narrow = bea.verify(sp.cos(t), [t], [1.0], orders=(0,), steps=np.geomspace(2e-4, 3e-3, 6))
    fig = narrow.plot()
    fig.canvas.draw()
    labels = [x.get_text() for x in fig.axes[0].xaxis.get_ticklabels(minor=True)]
    assert "$2\\cdot10^{-4}$" in labels and "$5\\cdot10^{-4}$" in labels
    assert not any("3\\cdot" in x for x in labels)
    wide = bea.verify(sp.cos(t), [t], [1.0], orders=(0,), steps=np.geomspace(1e-5, 1e-2, 6))
    fig = wide.plot()
    fig.canvas.draw()
    assert not any(x.get_text() for x in fig.axes[0].xaxis.get_ticklabels(minor=True))
