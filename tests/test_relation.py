"""The relation route on its own: methods given as equations between iterates, checked against
the Taylor route, the tree route and literature values."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
import bea.optim
from bea.bseries.rk import IMPLICIT_EULER, IMPLICIT_MIDPOINT
from bea.relation import relation_modified_equation
from conftest import jac, second_derivative

y, y1, yp, h = sp.symbols("y y1 yp h")
a, b, a1, b1 = sp.symbols("a b a1 b1")
F = sp.Matrix([b**2 - a, a * b])  # a non-gradient field


def test_explicit_euler_as_a_relation_equals_the_taylor_route():
    rel = [n - v - h * f for n, v, f in zip((a1, b1), (a, b), F, strict=True)]
    got = relation_modified_equation(rel, [a, b], {1: (a1, b1)}, h, 3)
    ref = bea.modified_equation(sp.Matrix([a, b]) + h * F, [a, b], h, 3)
    for j in range(4):
        assert (got.terms[j] - ref.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1)


@pytest.mark.parametrize("rk", [IMPLICIT_EULER, IMPLICIT_MIDPOINT], ids=lambda r: r.name)
def test_implicit_methods_as_relations_equal_the_tree_route(rk):
    new = sp.Matrix([a1, b1])
    if rk is IMPLICIT_EULER:
        stage = new
    else:
        stage = (sp.Matrix([a, b]) + new) / 2
    at = dict(zip((a, b), stage, strict=True))
    rel = [n - v - h * f.xreplace(at) for n, v, f in zip((a1, b1), (a, b), F, strict=True)]
    got = relation_modified_equation(rel, [a, b], {1: (a1, b1)}, h, 3)
    trees = bea.modified_equation(rk, [a, b], h, 3, field=list(F))
    for j in range(4):
        assert (got.terms[j] - trees.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1)


def _equal_at_points(u, v, symbols, digits=40):
    """u == v at three rational points (exact inputs, evaluated to ``digits``)."""
    for k in range(3):
        point = {s: sp.Rational(3 + 2 * i + k, 7) for i, s in enumerate(symbols)}
        if abs(sp.N((u - v).xreplace(point), digits)) > 10 ** (10 - digits):
            return False
    return True


def test_non_polynomial_fields_through_the_ring_equal_the_taylor_and_tree_routes():
    # exp, log, tanh and a square root: atoms whose arguments involve the iterates, carried from
    # the ring of the relation's variables to the ring of θ at the base point
    G = sp.Matrix([sp.exp(-a * b) - sp.tanh(a), sp.log(1 + b**2) + a / sp.sqrt(1 + a**2)])
    rel = [n - v - h * f for n, v, f in zip((a1, b1), (a, b), G, strict=True)]
    got = relation_modified_equation(rel, [a, b], {1: (a1, b1)}, h, 3)
    ref = bea.modified_equation(sp.Matrix([a, b]) + h * G, [a, b], h, 3)
    at = dict(zip((a, b), (a1, b1), strict=True))
    rel = [n - v - h * f.xreplace(at) for n, v, f in zip((a1, b1), (a, b), G, strict=True)]
    implicit = relation_modified_equation(rel, [a, b], {1: (a1, b1)}, h, 3)
    trees = bea.modified_equation(IMPLICIT_EULER, [a, b], h, 3, field=list(G))
    for j in range(4):
        rows = zip(got.terms[j], ref.terms[j], implicit.terms[j], trees.terms[j], strict=True)
        for u, v, w, z in rows:
            assert _equal_at_points(u, v, (a, b)) and _equal_at_points(w, z, (a, b))
            # implicit Euler is the adjoint of explicit Euler: f_j* = (-1)^j f_j (HLW IX.2)
            assert _equal_at_points(w, (-1) ** j * u, (a, b))
    assert not _equal_at_points(got.terms[1][0], implicit.terms[1][0], (a, b))  # can fail


def test_adam_to_order_3_is_confirmed_by_its_error_slopes():
    # Adam's order-2 and order-3 terms (a fraction of a second in the ring): local error
    # O(h^(p+2)) against the truncated flow
    t = sp.Symbol("t")
    adam = bea.optim.Adam(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10))
    v = bea.verify(
        t**4 / 4 + t**2 / 2,
        [t],
        [[0.8], [-1.2]],
        orders=(0, 1, 2, 3),
        method=adam,
        steps=np.geomspace(0.002, 0.03, 10),
    )
    for p in (0, 1, 2, 3):
        assert abs(v.local_slopes[p] - (p + 2)) < 0.15, v.local_slopes


def test_leapfrog_has_an_even_series_with_the_literature_h2_term():
    # y_{n+1} = y_{n-1} + 2h f(y_n): f1 = f3 = 0 and f2 = -(f''(f, f) + f'f'f)/6 (HLW XV)
    prev = sp.symbols("ap bp")
    rel = [n - q - 2 * h * f for n, q, f in zip((a1, b1), prev, F, strict=True)]
    flow = relation_modified_equation(rel, [a, b], {1: (a1, b1), -1: prev}, h, 3)
    J = jac(F, (a, b))
    expected = -(second_derivative(F, (a, b), F, F) + J * J * F) / 6
    assert flow.terms[1] == sp.zeros(2, 1) and flow.terms[3] == sp.zeros(2, 1)
    assert (flow.terms[2] - expected).applyfunc(sp.expand) == sp.zeros(2, 1)


def test_slaved_fast_variable_and_its_slow_manifold():
    # y' = y - h y / sqrt(v' + 1), v' = v/2 + y²/2: v = y² + O(h) on the slow manifold
    v0, v1 = sp.symbols("v0 v1")
    rel = [y1 - y + h * y / sp.sqrt(v1 + 1), v1 - v0 / 2 - y**2 / 2]
    flow = relation_modified_equation(rel, [y], {1: [y1]}, h, 1, fast={0: [v0], 1: [v1]})
    assert flow.terms[0] == sp.Matrix([-y / sp.sqrt(y**2 + 1)])
    assert flow.slow_manifold[0] == sp.Matrix([y**2])
    # W₁ from the fast relation by hand: v_{n+1} = W(y + h f₀) = W₀ + h(W₁ + W₀'f₀) + ...,
    # so W₀ + h W₁ + h W₀'f₀ = (W₀ + h W₁)/2 + y²/2 + O(h²) gives W₁ = -2 W₀' f₀
    expected = -2 * sp.diff(y**2, y) * flow.terms[0][0]
    assert sp.simplify(flow.slow_manifold[1][0] - expected) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shifted": {0: [y1]}}, "non-zero"),
        ({"relation": [y1 - 2 * y + h]}, "at h = 0"),
        ({"relation": [y1 - y - h * y, y]}, "components"),
        ({"relation": ["__import__('os').system('echo PWNED')"]}, "never accepted"),
    ],
)
def test_bad_relations_are_clear_errors(kwargs, message):
    args = {"relation": [y1 - y - h * y**2], "shifted": {1: [y1]}}
    args.update(kwargs)
    with pytest.raises(bea.InputError, match=message):
        relation_modified_equation(args["relation"], [y], args["shifted"], h, 2)
