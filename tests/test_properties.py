"""Property tests on random polynomial losses in 1-3 parameters (hypothesis)."""

from __future__ import annotations

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bea
from conftest import gradient, naive_flow_expansion

SYMS = sp.symbols("p q r")
h = sp.Symbol("h")


@st.composite
def polynomial_losses(draw, max_params=3, max_degree=4):
    m = draw(st.integers(1, max_params))
    params = SYMS[:m]
    n_terms = draw(st.integers(1, 5))
    loss = sp.Integer(0)
    for _ in range(n_terms):
        exps = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
        if sum(exps) == 0 or sum(exps) > max_degree:
            continue
        coeff = draw(st.integers(-3, 3).filter(bool)) * sp.Rational(1, draw(st.integers(1, 3)))
        loss += coeff * sp.Mul(*[p**e for p, e in zip(params, exps, strict=True)])
    # make every parameter occur
    loss += sum(p**2 for p in params if p not in loss.free_symbols)
    return sp.expand(loss), params


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(polynomial_losses())
def test_first_order_term_is_minus_half_hessian_gradient(case):
    loss, params = case
    flow = bea.modified_flow(loss, params, order=1)
    g = gradient(loss, params)
    assert (flow.terms[1] + sp.hessian(loss, params) * g / 2).applyfunc(sp.expand) == sp.zeros(
        len(params), 1
    )


@SETTINGS
@given(polynomial_losses())
def test_order_one_modified_loss_has_gradient_of_paper_loss(case):
    loss, params = case
    got = bea.modified_loss(loss, params, order=1)
    g = gradient(loss, params)
    want = loss + h / 4 * (g.T * g)[0]
    # equal up to a constant, and exactly equal when the loss has (complex) critical points
    assert gradient(got - want, params).applyfunc(sp.expand) == sp.zeros(len(params), 1)
    if list(sp.groebner(list(g), *params).exprs) != [1]:
        assert sp.expand(got - want) == 0


@SETTINGS
@given(polynomial_losses(max_params=2, max_degree=3))
def test_truncated_modified_flow_matches_step_to_next_order(case):
    loss, params = case
    K = 2
    flow = bea.modified_flow(loss, params, order=K)
    step = sp.Matrix(params) - h * gradient(loss, params)
    phi = naive_flow_expansion(flow.vector_field(), params, h, K + 1)
    assert (phi - step).applyfunc(sp.expand) == sp.zeros(len(params), 1)


@SETTINGS
@given(polynomial_losses(max_params=1))
def test_one_parameter_losses_always_have_a_modified_loss(case):
    loss, params = case
    flow = bea.modified_flow(loss, params, order=3)
    assert flow.first_non_gradient() is None
    V = flow.potential(3)
    assert sp.expand(sp.diff(V, params[0]) + flow.terms[3][0]) == 0
