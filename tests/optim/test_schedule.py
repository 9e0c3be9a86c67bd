"""Learning-rate schedules: GD(schedule=s) steps θ ← θ − h s(t)∇E(θ), t ← t + h. The modified flow
is non-autonomous; its first term is derived by hand here and the flow is verified numerically on
the autonomous map of (θ, t)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
from bea.optim import GD

a, b, t, h = sp.symbols("a b t h")
E = (a * b - sp.Rational(3, 5)) ** 2 / 2 + a**4 / 12


def test_first_term_by_hand():
    """Explicit Euler on F = (−s∇E, 1): f₁ = −F′F/2, whose θ-part is −s²H∇E/2 + s′∇E/2."""
    s = 1 / (1 + t) + sp.sin(t) / 5
    flow = bea.modified_flow(E, [a, b], 1, method=GD(schedule=s))
    g = sp.Matrix([sp.diff(E, a), sp.diff(E, b)])
    H = sp.hessian(E, [a, b])
    assert sp.simplify(flow.terms[0] + s * g) == sp.zeros(2, 1)
    want = -(s**2) * H * g / 2 + sp.diff(s, t) * g / 2
    assert sp.simplify(flow.terms[1] - want) == sp.zeros(2, 1)


def test_modified_loss_with_a_schedule():
    """Ẽ(θ, t) = sE + h(s²‖∇E‖²/4 − s′E/2): a gradient in θ at each t."""
    s = 1 + t / 2 + t**2
    loss = bea.modified_loss(E, [a, b], 1, method=GD(schedule=s))
    grad2 = sp.diff(E, a) ** 2 + sp.diff(E, b) ** 2
    want = s * E + h * (s**2 * grad2 / 4 - sp.diff(s, t) * E / 2)
    rest = sp.expand(loss - want)  # a potential is fixed up to a constant: here a function of t
    assert not rest.free_symbols & {a, b}


def test_where_the_schedule_is_flat_it_is_a_scaled_rate():
    """At t = 0 the schedule s = 2 + t² has s = 2, s′ = 0: f₀ and f₁ are those of GD with step
    2h, f_j scaled by 2^{j+1}. A schedule without t is refused."""
    with pytest.raises(bea.InputError, match="does not depend on the time"):
        GD(schedule=2)
    plain = bea.modified_flow(E, [a, b], 1)
    flat = bea.modified_flow(E, [a, b], 1, method=GD(schedule=2 + t**2))
    for j in range(2):
        assert sp.expand(flat.terms[j].subs(t, 0) - 2 ** (j + 1) * plain.terms[j]) == sp.zeros(2, 1)


def test_verified_numerically_on_the_map_of_theta_and_time():
    method = GD(schedule=1 / (1 + t))
    flow, step = method.flow_and_step(E, (a, b), h, 3)
    assert step.state == (a, b, t) and flow.state == (a, b, t)
    v = bea.verify_flow(
        flow,
        step,
        [[1.2, 0.7, 0.0], [0.4, 1.5, 0.5]],
        orders=(0, 1, 2, 3),
        steps=np.geomspace(0.004, 0.05, 10),
    )
    for p, slope in v.local_slopes.items():
        assert abs(slope - (p + 2)) < 0.15, (p, slope)


def test_bad_schedules_are_clear_errors():
    with pytest.raises(bea.InputError, match="a parameter"):
        bea.modified_flow(E, [a, b], 1, method=GD(schedule=1 + a, time="a"))
    with pytest.raises(bea.InputError, match="cannot depend on the schedule's time"):
        bea.modified_flow(E + t, [a, b], 1, method=GD(schedule=1 + t))
    with pytest.raises(bea.InputError, match="not allowed|never accepted"):
        GD(schedule="__import__('os').getcwd()")
    with pytest.raises(bea.InputError, match="not smooth"):
        GD(schedule=sp.Abs(t - 1))


def test_schedule_from_the_command_line(capsys):
    from bea.cli import main

    argv = ["derive", "(a*b - 0.6)**2/2", "--params", "a", "b", "--schedule", "1/(1 + t)"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "E~ = " in out and "t + 1" in out
    assert main([*argv, "--method", "heavy-ball"]) == 2
    assert "--schedule applies to gd only" in capsys.readouterr().err
