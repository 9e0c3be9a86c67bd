"""Linear-relation methods on trees (momentum, multistep) against the relation route, the RK
tableaus and literature values."""

from __future__ import annotations

import pytest
import sympy as sp

import bea
from bea.bseries import (
    LinearRelation,
    adams_bashforth2,
    bdf2,
    heavy_ball,
    leapfrog,
    modified_equation,
    nesterov,
    relation_modified_equation,
)
from bea.bseries.elementary import evaluate
from bea.bseries.rk import EXPLICIT_EULER, IMPLICIT_EULER
from bea.optim import HeavyBall, Nesterov

a, b, h = sp.symbols("a b h")
E = (a * b - sp.Rational(3, 5)) ** 2 / 2 + a**4 / 8
FIELD = [-sp.diff(E, v) for v in (a, b)]
BETA = sp.Rational(2, 5)


@pytest.mark.parametrize(
    ("relation", "rk"),
    [
        (LinearRelation({1: 1, 0: -1}, [(1, {0: 1})], "explicit Euler"), EXPLICIT_EULER),
        (LinearRelation({1: 1, 0: -1}, [(1, {1: 1})], "implicit Euler"), IMPLICIT_EULER),
    ],
    ids=["explicit", "implicit"],
)
def test_one_step_relations_equal_their_runge_kutta_tableaus(relation, rk):
    got = relation_modified_equation(relation, 5)
    assert got.coefficients == modified_equation(rk.bseries(5)).coefficients


@pytest.mark.parametrize(
    ("relation", "optimizer"),
    [
        (heavy_ball(BETA), HeavyBall(BETA)),
        (heavy_ball(BETA, "effective"), HeavyBall(BETA, "effective")),
        (nesterov(BETA), Nesterov(BETA)),
    ],
    ids=["heavy-ball", "heavy-ball-effective", "nesterov"],
)
def test_momentum_on_trees_equals_the_relation_route_on_a_loss(relation, optimizer):
    trees = evaluate(relation_modified_equation(relation, 4), FIELD, [a, b], h, 3)
    ref = bea.modified_flow(E, [a, b], 3, method=optimizer)
    for j in range(4):
        assert (trees.terms[j] - ref.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1)


def test_multistep_literature_values():
    # leapfrog: even series, f2 = -(f''(f,f) + f'f'f)/6 (HLW XV.3); AB2 and BDF2 are second order
    lf = relation_modified_equation(leapfrog(), 5)
    assert [lf[t] for t in [((),), ((((),),),), ((), ((),))]] == [0, 0, 0]
    assert lf[(((),),)] == sp.Rational(-1, 6) and lf[((), ())] / 2 == sp.Rational(-1, 6)
    assert relation_modified_equation(adams_bashforth2(), 3)[((),)] == 0
    assert relation_modified_equation(bdf2(), 3)[((),)] == 0


@pytest.mark.parametrize("method", [adams_bashforth2(), bdf2(), leapfrog()], ids=lambda m: m.name)
def test_multistep_methods_on_trees_equal_the_relation_route(method):
    # an independent route: the same method as equations between iterates (bea.relation)
    y, yp, yn = sp.symbols("y yp yn")
    f = lambda u: u**2 - u / 3  # noqa: E731
    point = {1: yn, 0: y, -1: yp}
    lhs = sum(a * point[s] for s, a in method.alpha.items())
    rhs = sum(g * f(sum(m * point[s] for s, m in mu.items())) for g, mu in method.evaluations)
    shifted = {s: [point[s]] for s in method.shifts if s != 0}
    ref = bea.relation.relation_modified_equation([lhs - h * rhs], [y], shifted, h, 3)
    trees = evaluate(relation_modified_equation(method, 4), [f(y)], [y], h, 3)
    assert (trees.vector_field() - ref.vector_field()).applyfunc(sp.expand) == sp.zeros(1, 1)


def test_symbolic_momentum_coefficient_matches_ghosh_et_al():
    beta = sp.Symbol("beta")
    b_eff = relation_modified_equation(heavy_ball(beta, "effective"), 2)
    b_gd = modified_equation(EXPLICIT_EULER.bseries(2))
    # the f'f coefficient is (1+β)/(1−β) times GD's: the implicit penalty factor
    assert sp.simplify(b_eff[((),)] / b_gd[((),)] - (1 + beta) / (1 - beta)) == 0


def test_bad_relations_are_clear_errors():
    with pytest.raises(bea.InputError, match="consistent"):
        LinearRelation({1: 1, 0: -2}, [(1, {0: 1})])
    with pytest.raises(bea.InputError, match="Σ μ_s = 1"):
        LinearRelation({1: 1, 0: -1}, [(1, {0: 2})])
    with pytest.raises(bea.InputError, match="non-zero"):
        LinearRelation({1: 1, -1: 1, 0: -2}, [(1, {0: 1})])
