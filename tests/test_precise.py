"""Local errors in arbitrary precision: the orders that float64 hides (issue: verification beyond
float64), with a control that must fail."""

from __future__ import annotations

import pytest
import sympy as sp

import bea
from bea.bseries.rk import RK4
from bea.optim import GD, ProximalPoint

a, b, h, u, v = sp.symbols("a b h u v")
E = (sp.Rational(3, 5) - a * b) ** 2 / 2  # the paper's model with x = 1, y = 0.6


def test_gd_local_slopes_are_p_plus_2_up_to_order_6():
    flow = bea.modified_flow(E, [a, b], 6)
    v_ = bea.verify_local(flow, GD().step_map(E, (a, b), h), [[1.5, 0.8]], orders=range(7))
    for p, slope in v_.local_slopes.items():
        assert abs(slope - (p + 2)) < 0.1, (p, slope)
    assert v_.errors[6].min() < 1e-16  # below what float64 resolves at this point
    assert "p = 6: slope" in str(v_) and v_.to_dict()["digits"] == 40


def test_rk4_on_lotka_volterra_to_order_6():
    field = [u * (v - 2), v * (1 - u)]
    flow = bea.modified_equation(RK4, [u, v], h, 6, field=field)
    step = RK4.step_map(field, [u, v], h)
    result = bea.verify_local(flow, step, [[1.0, 1.5]], orders=(0, 3, 4, 5, 6))
    expected = {0: 5, 3: 5, 4: 6, 5: 7, 6: 8}  # f₁ = f₂ = f₃ = 0 for a fourth-order method
    for p, slope in result.local_slopes.items():
        assert abs(slope - expected[p]) < 0.1, (p, slope)


def test_the_measurement_fails_for_the_wrong_flow():
    """Proximal point's f₁ has the opposite sign: against GD's step its order-1 flow is no better
    than order 0."""
    wrong = bea.modified_flow(E, [a, b], 1, method=ProximalPoint())
    result = bea.verify_local(wrong, GD().step_map(E, (a, b), h), [[1.5, 0.8]], orders=(1,))
    assert abs(result.local_slopes[1] - 2) < 0.1


def test_bad_input_is_a_clear_error():
    flow = bea.modified_flow("(y - a*b)**2/2", ["a", "b"], 1)
    step = GD().step_map(flow.loss, (a, b), h)
    with pytest.raises(bea.InputError, match="give values= for y"):
        bea.verify_local(flow, step, [[1.0, 1.0]])
    ok = bea.verify_local(flow, step, [[1.0, 1.0]], orders=(0,), values={"y": "0.6"})
    assert abs(ok.local_slopes[0] - 2) < 0.1
    implicit = ProximalPoint().step_map(flow.loss, (a, b), h)
    for kwargs, message in [
        (dict(step=implicit), "explicit"),
        (dict(digits=8), "digits"),
        (dict(orders=(3,)), "order"),
        (dict(points=[[1.0]]), "shape"),
        (dict(steps=[0.1, -0.1, 0.01]), "positive"),
        (dict(step=GD().step_map(E, (b, a), h)), "acts on"),
    ]:
        args = dict(flow=flow, step=step, points=[[1.0, 1.0]], values={"y": 1}) | kwargs
        with pytest.raises(bea.InputError, match=message):
            bea.verify_local(**args)


def test_verify_takes_precision_and_so_does_the_command_line(capsys):
    """bea.verify(..., precision=K) is the arbitrary-precision path behind the front door (a
    LocalVerification), and ``bea verify --precision K`` prints it."""
    import json

    from bea.cli import main

    v = bea.verify(
        "(y - a*b*x)**2/2",
        ["a", "b"],
        [1.5, 0.8],
        orders=(4,),
        values={"x": 1, "y": 0.6},
        precision=40,
    )
    assert isinstance(v, bea.LocalVerification) and abs(v.local_slopes[4] - 6) < 0.1
    argv = ["verify", "--loss", "(y - a*b*x)**2/2", "--params", "a", "b", "--point", "1.5", "0.8"]
    argv += ["--values", "x=1", "y=0.6", "--orders", "4", "--precision", "40", "--json"]
    assert main(argv) == 0
    assert abs(json.loads(capsys.readouterr().out)["local_slopes"]["4"] - 6) < 0.1
    assert main([*argv[:-1], "--plot", "x.png"]) == 2
    assert "without --precision" in capsys.readouterr().err
