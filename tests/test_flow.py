"""ModifiedFlow: gradient tests, potentials and modified losses (Barrett & Dherin 2021)."""

from __future__ import annotations

import json

import pytest
import sympy as sp

import bea
from conftest import gradient

a, b, c, x, y, h, t = sp.symbols("a b c x y h t")
TWO_PARAM = (y - a * b * x) ** 2 / 2


def igr_loss(loss, params):
    g = gradient(loss, params)
    return loss + h / 4 * (g.T * g)[0]


@pytest.mark.parametrize(
    "loss, params",
    [
        (TWO_PARAM, (a, b)),
        ((a - 1) ** 2 + (b + 2) ** 4, (a, b)),  # constant term: fixed on the critical points
        (a**2 * b + b * c**3 + c**4 / 3 + a * c, (a, b, c)),
        (x * (a**2 - 1) ** 2 + a * b**2, (a, b)),
    ],
)
def test_order_one_modified_loss_is_paper_formula_identically(loss, params):
    got = bea.modified_loss(loss, params, order=1)
    assert sp.expand(got - igr_loss(loss, params)) == 0


@pytest.mark.parametrize(
    "loss, params",
    [
        (sp.sin(a) * sp.cos(b), (a, b)),
        (sp.log(1 + sp.exp(-(a * x + b))), (a, b)),
        (sp.exp(a * b) + a**2, (a, b)),
    ],
)
def test_order_one_modified_loss_of_non_polynomial_losses_has_the_paper_gradient(loss, params):
    got = bea.modified_loss(loss, params, order=1)
    diff = gradient(got - igr_loss(loss, params), params)
    assert diff.applyfunc(sp.simplify) == sp.zeros(len(params), 1)


def test_igr_matches_engine():
    r = bea.igr(TWO_PARAM, [a, b])
    assert r.lam == h / 2 and r.m == 2
    assert sp.expand(r.modified_loss - bea.modified_loss(TWO_PARAM, [a, b])) == 0
    # R_IG = x^2 (a^2 + b^2) E on the two-parameter model (MATH.md, section 3)
    assert sp.expand(r.R - x**2 * (a**2 + b**2) * TWO_PARAM) == 0


def test_two_parameter_model_has_no_modified_loss_at_order_two():
    flow = bea.modified_flow(TWO_PARAM, [a, b], order=3)
    assert [flow.is_gradient(j) for j in range(3)] == [True, True, False]
    assert flow.first_non_gradient() == 2
    curl = flow.antisymmetric_jacobian(2)[0, 1]
    assert curl != 0
    # the obstruction vanishes on a = b, a = -b and on the valley of minima ab = y/x
    assert sp.simplify(curl.subs(b, a)) == 0
    assert sp.simplify(curl.subs(b, -a)) == 0
    assert sp.simplify(curl.subs(b, y / (a * x))) == 0
    assert sp.simplify(curl.subs({a: 2, b: 1, x: 1, y: 1})) != 0
    with pytest.raises(bea.NotAGradientError) as info:
        bea.modified_loss(TWO_PARAM, [a, b], order=2)
    assert info.value.order == 2
    assert "f_2" in str(info.value) and "antisymmetric" in str(info.value)
    with pytest.raises(bea.NotAGradientError):
        flow.potential(2)


def test_order_two_obstruction_is_the_curl_of_h_squared_g():
    # MATH.md: f_2 = -grad(g^T H g / 12) - H^2 g / 6, so its antisymmetric Jacobian is that of
    # -H^2 g / 6 (an independent computation of the obstruction)
    flow = bea.modified_flow(TWO_PARAM, [a, b], order=2)
    g = gradient(TWO_PARAM, [a, b])
    H = sp.hessian(TWO_PARAM, [a, b])
    J = (-H * H * g / 6).jacobian([a, b])
    assert sp.simplify(flow.antisymmetric_jacobian(2) - (J - J.T) / 2) == sp.zeros(2, 2)


@pytest.mark.parametrize(
    "loss, params, order",
    [
        (t**4 / 4 + sp.cos(t), (t,), 3),  # one dimension: always a gradient
        (a**2 + a * b + 3 * b**2 - a, (a, b), 4),  # quadratic
        (a**4 + sp.cos(b) + b**2, (a, b), 3),  # separable
    ],
)
def test_gradient_cases(loss, params, order):
    flow = bea.modified_flow(loss, params, order=order)
    assert all(flow.is_gradient(j) for j in range(order + 1))
    point = {p: sp.Rational(3 + 2 * i, 7) for i, p in enumerate(params)}
    for j in range(1, order + 1):
        # sympy's closed form, differentiated back symbolically
        V = flow.potential(j, closed_form=True)
        assert not V.has(sp.Integral)
        assert (gradient(V, params) + flow.terms[j]).applyfunc(sp.simplify) == sp.zeros(
            len(params), 1
        )
        # bea's own form (a ray integral where no closed form is found), differentiated under the
        # integral sign and integrated by mpmath
        residual = (gradient(flow.potential(j), params) + flow.terms[j]).xreplace(point)
        assert all(abs(sp.N(r, 30)) < 1e-20 for r in residual)


def test_quadratic_modified_loss_is_log_series():
    # E = (theta - theta*)^T A (theta - theta*)/2: modified loss with A + h A^2/2 + h^2 A^3/3 + ...
    A = sp.Matrix([[2, 1], [1, 3]])
    d = sp.Matrix([a - 1, b + 2])
    loss = (d.T * A * d)[0] / 2
    order = 4
    series = sum((h**k * A ** (k + 1) / (k + 1) for k in range(order + 1)), sp.zeros(2, 2))
    want = (d.T * series * d)[0] / 2
    assert sp.expand(bea.modified_loss(loss, [a, b], order=order) - want) == 0


def test_flow_views_and_printing():
    flow = bea.modified_flow(TWO_PARAM, [a, b], order=2)
    assert flow.h == h and flow.state == (a, b) and flow.order == 2 and flow.method == "gd"
    assert flow.vector_field(0) == flow.terms[0]
    assert sp.expand(flow.vector_field(1) - flow.terms[0] - h * flow.terms[1]) == sp.zeros(2, 1)
    text = str(flow)
    assert "f_2 (NOT a gradient)" in text and "f_1 (gradient)" in text
    assert flow._repr_latex_().startswith("$$\\begin{aligned}")
    data = json.loads(flow.to_json())
    assert data["gradient"] == [True, True, False]
    assert sp.sympify(data["terms"][1][0]) == flow.terms[1][0]
    with pytest.raises(bea.InputError, match="term index"):
        flow.is_gradient(3)
    with pytest.raises(bea.InputError, match="term index"):
        flow.vector_field(-1)


@pytest.mark.parametrize(
    "loss, params, message",
    [
        (a**2, ["b"], "do not occur"),
        (a**2 + h, ["a"], "step size"),
        (sp.Abs(a), ["a"], "not smooth"),
        (sp.Max(a, 0) ** 2, ["a"], "not smooth"),
        ("a**2", ["a", "a"], "twice"),
        (a**2, [], "at least one"),
        (sp.Matrix([a]), ["a"], "scalar"),
    ],
)
def test_bad_losses_are_rejected(loss, params, message):
    with pytest.raises(bea.InputError, match=message):
        bea.modified_flow(loss, params, order=1)


def test_unknown_method_and_bad_order():
    with pytest.raises(bea.InputError, match="unknown method"):
        bea.modified_flow(a**2, [a], method="lion")
    with pytest.raises(bea.InputError, match=">= 0"):
        bea.modified_loss(a**2, [a], order=-2)


def test_floats_become_exact_rationals():
    flow = bea.modified_flow(0.6 * a**2, [a], order=2)
    assert not any(term.atoms(sp.Float) for term in flow.terms)
    assert flow.terms[1][0] == -sp.Rational(1, 2) * sp.Rational(6, 5) ** 2 * a  # -H g / 2


def test_derived_terms_are_built_on_first_access_and_behave_as_a_tuple():
    a, b = sp.symbols("a b")
    flow = bea.modified_flow(sp.log(1 + sp.exp(-a * b)) + a**2 / 2, [a, b], order=2)
    assert flow.first_non_gradient() == 2
    assert flow.terms._cache == {}  # the gradient test works on the ring
    assert flow.modified_loss(1) is not None
    assert set(flow.terms._cache) <= {0}  # f_0 (= -∇E?) is compared with the loss; f_1, f_2 not
    whole = tuple(sp.Matrix(t) for t in flow.terms)
    assert len(flow.terms) == 3 and flow.terms == whole and flow.terms == list(whole)
    assert flow.terms[-1] == whole[2] and flow.terms[1:] == whole[1:]
    point = {a: sp.Rational(3, 7), b: sp.Rational(-5, 4)}
    for got, s in zip(flow.terms[0], (a, b), strict=True):  # f_0 = -∇E
        assert abs(sp.N((got + sp.diff(flow.loss, s)).xreplace(point), 40)) < 1e-35
    with pytest.raises(IndexError):
        flow.terms[3]
    assert repr(flow.terms) == repr(whole)
