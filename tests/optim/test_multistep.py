"""Linear multistep methods on −∇E through the front door (modified_flow, verify, the CLI)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
from bea.bseries.relations import LinearRelation
from bea.cli import METHOD_NAMES, main
from bea.optim import OPTIMIZERS, Multistep

a, b, h = sp.symbols("a b h")
E = (a * b - sp.Rational(3, 5)) ** 2 / 2 + a**4 / 12


def _y3(loss, params):
    """y‴ along y′ = f = −∇E: f″(f, f) + f′f′f, from sympy Jacobians."""
    f = sp.Matrix([-sp.diff(loss, p) for p in params])
    J = f.jacobian(params)
    return (J * f).jacobian(params) * f  # = f″(f, f) + f′f′f


@pytest.mark.parametrize(
    ("scheme", "constant"),
    [("leapfrog", sp.Rational(-1, 6)), ("ab2", sp.Rational(-5, 12)), ("bdf2", sp.Rational(1, 3))],
)
def test_second_order_methods_leading_term_is_the_error_constant(scheme, constant):
    """f₁ = 0 and f₂ = c·y‴ with c = −C/σ′(1): leapfrog −1/6 (HLW), AB2 −5/12, BDF2 +1/3."""
    flow = bea.modified_flow(E, [a, b], 2, method=Multistep(scheme))
    assert flow.terms[1] == sp.zeros(2, 1)
    assert (flow.terms[2] - constant * _y3(E, [a, b])).applyfunc(sp.expand) == sp.zeros(2, 1)


@pytest.mark.parametrize("scheme", ["leapfrog", "ab2"])
def test_tree_flow_equals_the_relation_route_of_the_explicit_update(scheme):
    """modified_flow takes the relation on trees; flow_and_step derives from the written update
    θ_{n+1} = Ψ(θ_n, θ_{n−1}) by the relation route: two derivations, one answer."""
    opt = Multistep(scheme)
    trees = opt.flow(E, (a, b), h, 3)
    update, _ = opt.flow_and_step(E, (a, b), h, 3)
    for j in range(4):
        assert (trees.terms[j] - update.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1)
    if scheme == "leapfrog":  # symmetric: only even powers of h
        assert trees.terms[3] == sp.zeros(2, 1)


def test_a_user_relation_explicit_euler_is_gradient_descent():
    euler = LinearRelation({1: 1, 0: -1}, [(1, {0: 1})], "explicit Euler")
    flow = bea.modified_flow(E, [a, b], 3, method=Multistep(euler))
    gd = bea.modified_flow(E, [a, b], 3)
    for j in range(4):
        assert (flow.terms[j] - gd.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1)


def test_ab2_verified_with_the_expected_slopes_of_a_second_order_method():
    v = bea.verify(E, [a, b], [[1.2, 0.7]], orders=(0, 2), method="ab2")
    assert v.expected_local_slopes == {0: 3, 2: 4}
    assert np.allclose([v.local_slopes[0], v.local_slopes[2]], [3, 4], atol=0.1)
    assert np.allclose([v.global_slopes[0], v.global_slopes[2]], [2, 3], atol=0.1)


def test_bdf2_is_derived_but_not_verified_and_bad_schemes_are_refused():
    with pytest.raises(bea.InputError, match="implicit"):
        bea.verify(E, [a, b], [[1.2, 0.7]], orders=(0,), method=Multistep("bdf2"))
    with pytest.raises(bea.InputError, match="unknown multistep scheme"):
        Multistep("ab3")
    with pytest.raises(bea.InputError, match="LinearRelation"):
        Multistep(3)


def test_the_command_line_knows_every_registered_method(capsys):
    assert set(METHOD_NAMES) == set(OPTIMIZERS) | {"bdf2"}
    assert main(["derive", "t**3/3", "--params", "t", "--method", "bdf2", "--order", "2"]) == 0
    assert "-2*t**4" in capsys.readouterr().out
    argv = ["verify", "--loss", "t**4/4 + t**2/2", "--params", "t", "--point", "0.8"]
    assert main([*argv, "--method", "bdf2"]) == 2
    assert "implicit" in capsys.readouterr().err


def test_a_symbolic_relation_heavy_ball_matches_the_heavy_ball_optimizer():
    """Heavy ball with a symbolic β given as a relation (trees) equals bea.optim.HeavyBall (the
    relation route of its written update), and its written two-step update is heavy ball's."""
    from bea.bseries.relations import heavy_ball

    beta = sp.Symbol("beta")
    as_relation = Multistep(heavy_ball(beta))
    trees = bea.modified_flow(E, [a, b], 2, method=as_relation)
    optimizer = bea.modified_flow(E, [a, b], 2, method=bea.optim.HeavyBall(beta))
    for j in range(3):
        diff = (trees.terms[j] - optimizer.terms[j]).applyfunc(sp.simplify)
        assert diff == sp.zeros(2, 1)
    step = as_relation.step_map(E, (a, b), h)
    reference = bea.optim.HeavyBall(beta).step_map(E, (a, b), h)
    swap = dict(zip(reference.prev, step.prev, strict=True))
    assert (step.step - reference.step.xreplace(swap)).applyfunc(sp.expand) == sp.zeros(2, 1)
