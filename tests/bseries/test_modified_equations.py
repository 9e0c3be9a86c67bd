"""B-series modified equations against literature values, a second algebraic route (the
substitution law) and the direct Taylor route."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import bea
from bea.bseries import (
    BSeries,
    RungeKutta,
    compose,
    exact_flow,
    modified_equation,
    modifying_integrator,
    order,
    order_of_accuracy,
    substitute,
    symplecticity_order,
    trees,
    trees_up_to,
)
from bea.bseries.rk import (
    EXPLICIT_EULER,
    EXPLICIT_MIDPOINT,
    GAUSS4,
    HEUN,
    IMPLICIT_MIDPOINT,
    METHODS,
    RK4,
    TRAPEZOID,
)

u, v, h, alpha = sp.symbols("u v h alpha")
LOTKA_VOLTERRA = [u * (v - 2), v * (1 - u)]  # not a gradient field


def test_explicit_euler_modified_equation_hlw_values():
    b = modified_equation(EXPLICIT_EULER.bseries(3))
    named = {
        (): 1,
        ((),): sp.Rational(-1, 2),
        ((), ()): sp.Rational(1, 6),
        (((),),): sp.Rational(1, 3),
    }
    assert {t: b[t] for t in trees_up_to(3)} == named


@pytest.mark.parametrize("rk", list(METHODS.values()), ids=lambda m: m.name)
def test_exact_flow_of_the_modified_field_is_the_method_substitution_law(rk):
    # second, independent route: the Lie-derivative recursion inverted by the substitution law
    a = rk.bseries(6)
    back = substitute(modified_equation(a), exact_flow(6))
    assert all(sp.simplify(back[t] - a[t]) == 0 for t in trees_up_to(6))


def test_modifying_integrator_of_explicit_midpoint_reproduces_the_exact_flow():
    a = EXPLICIT_MIDPOINT.bseries(7)
    c = modifying_integrator(a)
    assert substitute(c, a).coefficients == exact_flow(7).coefficients
    assert c[()] == 1 and c[((),)] == 0  # the method is already of order 2


def test_composition_of_exact_flows_and_of_two_euler_half_steps():
    half = BSeries({t: x / 2 ** order(t) for t, x in exact_flow(6).coefficients.items()}, 1, 6)
    assert compose(half, half).coefficients == exact_flow(6).coefficients
    # two explicit Euler half steps = the explicit midpoint rule? No: they make a 2-stage method
    # with A = [[0, 0], [1/2, 0]], b = [1/2, 1/2]; compare with its tableau
    e = EXPLICIT_EULER.bseries(5)
    e_half = BSeries({t: x / 2 ** order(t) for t, x in e.coefficients.items()}, 1, 5)
    two = RungeKutta([[0, 0], [sp.Rational(1, 2), 0]], [sp.Rational(1, 2), sp.Rational(1, 2)])
    assert compose(e_half, e_half).coefficients == two.bseries(5).coefficients


def test_rk4_classical_order_conditions():
    a = RK4.bseries(5)
    assert all(a[t] == sp.Rational(1, 1) / exact_flow(4).raw(t).denominator for t in trees_up_to(4))
    assert order_of_accuracy(a) == 4
    assert [
        order_of_accuracy(m.bseries(5))
        for m in (EXPLICIT_EULER, HEUN, EXPLICIT_MIDPOINT, IMPLICIT_MIDPOINT, TRAPEZOID, GAUSS4)
    ] == [
        1,
        2,
        2,
        2,
        2,
        4,
    ]


def test_symplecticity_implicit_midpoint_and_gauss_yes_explicit_euler_no():
    assert IMPLICIT_MIDPOINT.is_symplectic() and GAUSS4.is_symplectic()
    assert not EXPLICIT_EULER.is_symplectic() and not RK4.is_symplectic()
    assert symplecticity_order(IMPLICIT_MIDPOINT.bseries(7)) == 7
    assert symplecticity_order(GAUSS4.bseries(6)) == 6
    assert symplecticity_order(EXPLICIT_EULER.bseries(5)) == 1


@pytest.mark.parametrize("rk", [IMPLICIT_MIDPOINT, GAUSS4, TRAPEZOID], ids=lambda m: m.name)
def test_symmetric_methods_have_modified_equations_in_even_powers_of_h(rk):
    b = modified_equation(rk.bseries(7))
    assert all(b[t] == 0 for n in (2, 4, 6) for t in trees(n))
    assert any(b[t] != 0 for n in (3, 5) for t in trees(n))


def test_symbolic_tableau_family_of_second_order_methods():
    fam = RungeKutta([[0, 0], [alpha, 0]], [1 - 1 / (2 * alpha), 1 / (2 * alpha)])
    a = fam.bseries(4)
    assert order_of_accuracy(a) == 2
    b = modified_equation(a)
    assert b[((),)] == 0
    # by hand: b(τ) = a(τ) − (∂_b b)(τ)/2 − (∂_b² b)(τ)/6 with b([•]) = 0
    assert sp.simplify(b[((), ())] - (alpha / 2 - sp.Rational(1, 3))) == 0  # Ralston: α = 2/3
    assert sp.simplify(b[(((),),)] + sp.Rational(1, 6)) == 0
    back = substitute(b, exact_flow(4))
    assert all(sp.simplify(back[t] - a[t]) == 0 for t in trees_up_to(4))


def _explicit_rk_step(rk, field, state):
    s, ks = rk.stages, []
    for i in range(s):
        arg = [
            y + h * sum((rk.A[i, j] * ks[j][c] for j in range(i)), 0) for c, y in enumerate(state)
        ]
        ks.append([f.subs(dict(zip(state, arg, strict=True)), simultaneous=True) for f in field])
    return sp.Matrix(
        [y + h * sum(rk.b[i] * ks[i][c] for i in range(s)) for c, y in enumerate(state)]
    )


@pytest.mark.parametrize(
    ("rk", "order_"),
    [(EXPLICIT_EULER, 4), (EXPLICIT_MIDPOINT, 4), (HEUN, 4), (RK4, 4)],
    ids=lambda x: getattr(x, "name", str(x)),
)
def test_tree_route_equals_taylor_route_for_named_methods_on_lotka_volterra(rk, order_):
    taylor = bea.modified_equation(_explicit_rk_step(rk, LOTKA_VOLTERRA, [u, v]), [u, v], h, order_)
    trees_ = bea.modified_equation(rk, [u, v], h, order_, field=LOTKA_VOLTERRA)
    for j in range(order_ + 1):
        assert (taylor.terms[j] - trees_.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1), j
    assert not trees_.is_gradient(0)


def test_explicit_euler_to_order_6_on_a_nonpolynomial_field():
    field = [sp.sin(v), -u * sp.exp(v) / 2]
    taylor = bea.modified_equation(_explicit_rk_step(EXPLICIT_EULER, field, [u, v]), [u, v], h, 6)
    trees_ = bea.modified_equation(EXPLICIT_EULER, [u, v], h, 6, field=field)
    for j in range(7):
        diff = (taylor.terms[j] - trees_.terms[j]).applyfunc(lambda e: sp.simplify(sp.expand(e)))
        assert diff == sp.zeros(2, 1), j


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=6, max_size=6))
def test_gd_routes_agree_term_by_term_on_random_polynomial_losses(c):
    a, b = sp.symbols("a b")
    monomials = [a**2, a * b, b**2, a**3 * b, a * b**3, a**2 * b**2]
    loss = sum(ci * m for ci, m in zip(c, monomials, strict=True)) + a**4 + b**4
    t = bea.modified_flow(loss, [a, b], order=3)
    s = bea.modified_flow(loss, [a, b], order=3, route="bseries")
    assert all((t.terms[j] - s.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1) for j in range(4))
    assert s.method == t.method == "gd"


def test_bad_inputs_are_clear_errors():
    with pytest.raises(bea.InputError, match="exact"):
        RungeKutta([[0.5]], [1])
    with pytest.raises(bea.InputError, match="match b"):
        RungeKutta([[0, 0]], [1, 0])
    with pytest.raises(bea.InputError, match="consistent"):
        modified_equation(RungeKutta([[0]], [2]).bseries(3))
    with pytest.raises(bea.InputError, match="needs the vector field"):
        bea.modified_equation(RK4, [u], h, 2)
    with pytest.raises(bea.InputError, match="route"):
        bea.modified_flow("a**2", ["a"], route="magic")
    with pytest.raises(bea.InputError, match="only used with"):
        bea.modified_equation(sp.Matrix([u + h * u]), [u], h, 2, field=[u])


def test_terms_that_vanish_as_rational_functions_read_as_zero():
    """The modifying integrator of the explicit midpoint rule for the oscillator
    f(u) = (−u₂, u₁)/(u₁² + u₂²): its odd terms vanish (the method is symmetric), and bea's terms
    say so instead of printing expressions that only simplify to 0 (1/r² is an atom of the ring;
    q·(1/q) = 1 is applied when a term is read). Even terms in closed form, checked against the
    value at (1, 0) that BSeries.jl and bea's benchmark give."""
    from bea.bseries import modifying_integrator
    from bea.bseries.elementary import evaluate
    from bea.bseries.rk import EXPLICIT_MIDPOINT

    u1, u2, h = sp.symbols("u1 u2 h")
    r2 = u1**2 + u2**2
    c = modifying_integrator(EXPLICIT_MIDPOINT.bseries(8))
    flow = evaluate(c, [-u2 / r2, u1 / r2], [u1, u2], h, 7)
    assert flow.terms[1] == sp.zeros(2, 1) and flow.terms[3] == sp.zeros(2, 1)
    assert flow.terms[2] == sp.Matrix([-u2, u1]) / (12 * r2**3)
    at = flow.vector_field().subs({u1: 1, u2: 0}).applyfunc(sp.expand)
    R = sp.Rational
    assert at == sp.Matrix(
        [h**5 / 48 + R(31, 640) * h**7, 1 + h**2 / 12 + h**4 / 20 + R(127, 2016) * h**6]
    )
